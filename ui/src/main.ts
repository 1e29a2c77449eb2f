import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

// The app's script has been read and its modules have run (the bench's breakdown of
// a start reads this mark).
performance.mark("doorstep:script");

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

export default mount(App, { target });
