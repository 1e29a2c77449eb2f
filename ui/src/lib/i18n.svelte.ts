import { commands } from "./bindings";

// Every sentence the app shows, in English and German. Keys are the English
// dictionary's; the German one must have exactly the same (the type checks it).

const en = {
  "app.tagline": "Let couriers leave parcels inside — with you in control.",
  "app.demoLabel": "Demo home — everything here is simulated",
  "app.online": "● Online",
  "app.offline": "○ Offline — showing what this computer knows",
  "app.connecting": "… Connecting",
  "app.signOut": "Sign out",
  "app.loadingHome": "Loading your home…",
  "app.loadingDelivery": "Loading the delivery…",
  "nav.label": "Sections",
  "nav.home": "Home",
  "nav.activity": "Activity",
  "nav.recordings": "Recordings",
  "nav.guests": "Guests",
  "nav.household": "Household",
  "nav.settings": "Settings",
  "welcome.getStarted": "Get started",
  "welcome.signIn": "Sign in",
  "welcome.createAccount": "Create account",
  "welcome.tryDemo": "Try the demo home",
  "welcome.demoStarting": "Starting the demo home: a local cloud, a lock with its camera, and a courier…",
  "welcome.signInTitle": "Sign in to your household",
  "welcome.createTitle": "Create a household account",
  "welcome.cloud": "Cloud address",
  "welcome.email": "E-mail",
  "welcome.password": "Password",
  "welcome.totp": "Authenticator code (if you turned it on)",
  "welcome.deriving": "Deriving keys from your password…",
  "check.title": "Check this computer",
  "check.intro": "Doorstep keeps your sign-in in the system keyring and shows popups when a courier arrives.",
  "check.run": "Check this computer",
  "check.running": "Checking…",
  "check.ready": "This computer has everything Doorstep needs.",
  "check.needs": "Doorstep needs {what} on this computer.",
  "check.needKeyring": "a system keyring",
  "check.needPopups": "a notification service",
  "check.and": " and ",
  "check.keyring": "Keyring:",
  "check.popups": "Popups:",
  "check.keyringOk": "The system keyring stores and returns secrets.",
  "check.popupsOk": "Popups are shown by {server}.",
  "check.version": "Version {version}",
  "check.dataIn": "data in",
  "home.locks": "Locks",
  "home.noLock": "No lock yet.",
  "home.online": "Online",
  "home.offline": "Offline",
  "home.cameraRecording": "Camera recording",
  "home.cameraIdle": "Camera idle",
  "home.now": "Deliveries now",
  "home.nothing": "Nothing on its way.",
  "home.window": "window {from} – {to}",
  "home.past": "Last visits",
  "delivery.back": "← Home",
  "delivery.block": "Block access",
  "delivery.rerouteTo": "Reroute to",
  "delivery.pickAddress": "Pick an address",
  "delivery.reroute": "Reroute",
  "delivery.approve": "Approve",
  "delivery.blocked": "Blocked: the lock relocked and the courier was told to leave.",
  "delivery.rerouted": "Rerouted: the carrier has the new address.",
  "delivery.approved": "Approved: the courier may come in during the window.",
  "delivery.goingTo": "Going to {label}, {address}.",
  "delivery.timeline": "Timeline",
  "live.label": "Live video from the door camera",
  "live.feedLost": "The camera feed was lost during the delivery.",
  "live.frame": "Frame",
  "live.age": "{ms} ms old when it arrived",
  "live.stale": "Stale — no new picture for {s} s",
  "live.live": "● Live",
  "live.connecting": "Connecting to the camera…",
  "state.announced": "Announced",
  "state.approaching": "On the way",
  "state.at_door": "At the door",
  "state.granted": "Letting in",
  "state.door_open": "Inside now",
  "state.completed": "Delivered",
  "state.blocked": "Blocked",
  "state.rerouted": "Rerouted",
  "state.failed": "Not delivered",
  "state.expired": "Expired",
  "event.delivery.announced": "Announced by the carrier",
  "event.delivery.approved": "Approved",
  "event.delivery.approaching": "Courier on the way",
  "event.delivery.at_door": "Courier at the door",
  "event.delivery.granted": "Entry granted",
  "event.delivery.door_open": "Door opened",
  "event.delivery.completed": "Delivered; door locked",
  "event.delivery.blocked": "Access blocked",
  "event.delivery.rerouted": "Rerouted",
  "event.delivery.failed": "Could not be delivered inside",
  "event.delivery.expired": "Window passed",
  "event.camera.feed_lost": "Camera feed lost",
  "event.camera.feed_restored": "Camera feed back",
  "activity.title": "Activity",
  "activity.all": "Everything",
  "activity.deliveries": "Deliveries",
  "activity.guests": "Guests",
  "activity.video": "Video views",
  "activity.alarms": "Alarms",
  "activity.devices": "Devices",
  "activity.empty": "Nothing yet.",
  "activity.system": "Doorstep",
  "recordings.title": "Recordings",
  "recordings.empty": "No recordings yet: the camera records every entry.",
  "recordings.frames": "{n} frames, {s} s",
  "recordings.play": "Play",
  "recordings.seek": "Position in the recording",
  "household.title": "Devices signed in to this login",
  "household.thisDevice": "this device",
  "household.signedOut": "signed out",
  "household.signOutDevice": "Sign out",
  "household.done": "{name} is signed out; this device stays signed in.",
  "settings.title": "Settings",
  "settings.language": "Language",
  "settings.theme": "Theme",
  "settings.themeSystem": "Follow the system",
  "settings.themeLight": "Light",
  "settings.themeDark": "Dark",
  "settings.leadTime": "Popup before the courier arrives (minutes)",
  "settings.save": "Save",
  "settings.saved": "Saved.",
  "settings.addresses": "Alternate addresses",
  "settings.addressLabel": "Name",
  "settings.addressText": "Address",
  "settings.addAddress": "Add address",
  "settings.remove": "Remove",
  "settings.policy": "Let couriers in without asking",
  "settings.policyNone": "No policy: every delivery is asked about.",
  "settings.policyVersion": "Version {v}, signed with the household key.",
  "settings.policyCarriers": "Carriers (comma-separated, as announced)",
  "settings.policyDays": "Days (e.g. mon-fri)",
  "settings.policyHours": "Hours (e.g. 08:00-18:00)",
  "settings.policyMaxWindow": "Longest entry window (minutes)",
  "settings.policySave": "Sign and save",
  "settings.testPopup": "Show a test popup",
  "settings.testPopupSent": "A test popup was sent.",
  "guests.title": "Guests",
  "guests.empty": "No guests. A guest opens the door with their own key, only in their hours.",
  "guests.name": "Name",
  "guests.key": "Their public key",
  "guests.days": "Days (e.g. mon-fri)",
  "guests.hours": "Hours (e.g. 08:00-12:00)",
  "guests.add": "Invite guest",
  "guests.revoke": "Revoke",
  "guests.revoked": "revoked",
  "error.generic": "Something went wrong, and the app could not say what.",
} as const;

export type Key = keyof typeof en;

const de: Record<Key, string> = {
  "app.tagline": "Pakete werden drinnen abgelegt — und Sie behalten die Kontrolle.",
  "app.demoLabel": "Demo-Zuhause — hier ist alles simuliert",
  "app.online": "● Online",
  "app.offline": "○ Offline — zeigt, was dieser Computer weiß",
  "app.connecting": "… Verbinde",
  "app.signOut": "Abmelden",
  "app.loadingHome": "Ihr Zuhause wird geladen…",
  "app.loadingDelivery": "Die Lieferung wird geladen…",
  "nav.label": "Bereiche",
  "nav.home": "Zuhause",
  "nav.activity": "Aktivität",
  "nav.recordings": "Aufnahmen",
  "nav.guests": "Gäste",
  "nav.household": "Haushalt",
  "nav.settings": "Einstellungen",
  "welcome.getStarted": "Loslegen",
  "welcome.signIn": "Anmelden",
  "welcome.createAccount": "Konto erstellen",
  "welcome.tryDemo": "Demo-Zuhause ausprobieren",
  "welcome.demoStarting": "Das Demo-Zuhause startet: eine lokale Cloud, ein Schloss mit Kamera und ein Kurier…",
  "welcome.signInTitle": "Bei Ihrem Haushalt anmelden",
  "welcome.createTitle": "Ein Haushaltskonto erstellen",
  "welcome.cloud": "Cloud-Adresse",
  "welcome.email": "E-Mail",
  "welcome.password": "Passwort",
  "welcome.totp": "Code der Authenticator-App (falls eingeschaltet)",
  "welcome.deriving": "Schlüssel werden aus Ihrem Passwort abgeleitet…",
  "check.title": "Diesen Computer prüfen",
  "check.intro": "Doorstep bewahrt Ihre Anmeldung im Schlüsselbund des Systems auf und zeigt Hinweise, wenn ein Kurier kommt.",
  "check.run": "Diesen Computer prüfen",
  "check.running": "Prüfe…",
  "check.ready": "Dieser Computer hat alles, was Doorstep braucht.",
  "check.needs": "Doorstep braucht {what} auf diesem Computer.",
  "check.needKeyring": "einen Schlüsselbund des Systems",
  "check.needPopups": "einen Benachrichtigungsdienst",
  "check.and": " und ",
  "check.keyring": "Schlüsselbund:",
  "check.popups": "Hinweise:",
  "check.keyringOk": "Der Schlüsselbund des Systems speichert Geheimnisse und gibt sie zurück.",
  "check.popupsOk": "Hinweise zeigt {server}.",
  "check.version": "Programmversion {version}",
  "check.dataIn": "Daten in",
  "home.locks": "Schlösser",
  "home.noLock": "Noch kein Schloss.",
  "home.online": "Online",
  "home.offline": "Offline",
  "home.cameraRecording": "Kamera nimmt auf",
  "home.cameraIdle": "Kamera ruht",
  "home.now": "Lieferungen jetzt",
  "home.nothing": "Nichts unterwegs.",
  "home.window": "Zeitfenster {from} – {to}",
  "home.past": "Letzte Besuche",
  "delivery.back": "← Zuhause",
  "delivery.block": "Zutritt sperren",
  "delivery.rerouteTo": "Umleiten an",
  "delivery.pickAddress": "Adresse wählen",
  "delivery.reroute": "Umleiten",
  "delivery.approve": "Erlauben",
  "delivery.blocked": "Gesperrt: Das Schloss ist wieder zu, der Kurier wurde gebeten zu gehen.",
  "delivery.rerouted": "Umgeleitet: Der Paketdienst hat die neue Adresse.",
  "delivery.approved": "Erlaubt: Der Kurier darf im Zeitfenster hinein.",
  "delivery.goingTo": "Geht an {label}, {address}.",
  "delivery.timeline": "Verlauf",
  "live.label": "Live-Video der Türkamera",
  "live.feedLost": "Das Kamerabild ist während der Lieferung ausgefallen.",
  "live.frame": "Bild",
  "live.age": "{ms} ms alt bei Ankunft",
  "live.stale": "Veraltet — seit {s} s kein neues Bild",
  "live.live": "● Live",
  "live.connecting": "Verbinde mit der Kamera…",
  "state.announced": "Angekündigt",
  "state.approaching": "Unterwegs",
  "state.at_door": "An der Tür",
  "state.granted": "Wird eingelassen",
  "state.door_open": "Gerade drinnen",
  "state.completed": "Zugestellt",
  "state.blocked": "Gesperrt",
  "state.rerouted": "Umgeleitet",
  "state.failed": "Nicht zugestellt",
  "state.expired": "Abgelaufen",
  "event.delivery.announced": "Vom Paketdienst angekündigt",
  "event.delivery.approved": "Erlaubt",
  "event.delivery.approaching": "Kurier unterwegs",
  "event.delivery.at_door": "Kurier an der Tür",
  "event.delivery.granted": "Zutritt gewährt",
  "event.delivery.door_open": "Tür geöffnet",
  "event.delivery.completed": "Zugestellt; Tür verschlossen",
  "event.delivery.blocked": "Zutritt gesperrt",
  "event.delivery.rerouted": "Umgeleitet",
  "event.delivery.failed": "Konnte nicht drinnen zugestellt werden",
  "event.delivery.expired": "Zeitfenster verstrichen",
  "event.camera.feed_lost": "Kamerabild ausgefallen",
  "event.camera.feed_restored": "Kamerabild wieder da",
  "activity.title": "Aktivität",
  "activity.all": "Alles",
  "activity.deliveries": "Lieferungen",
  "activity.guests": "Gäste",
  "activity.video": "Videoansichten",
  "activity.alarms": "Alarme",
  "activity.devices": "Geräte",
  "activity.empty": "Noch nichts.",
  "activity.system": "Doorstep",
  "recordings.title": "Aufnahmen",
  "recordings.empty": "Noch keine Aufnahmen: Die Kamera nimmt jeden Zutritt auf.",
  "recordings.frames": "{n} Bilder, {s} s",
  "recordings.play": "Abspielen",
  "recordings.seek": "Position in der Aufnahme",
  "household.title": "Bei diesem Konto angemeldete Geräte",
  "household.thisDevice": "dieses Gerät",
  "household.signedOut": "abgemeldet",
  "household.signOutDevice": "Abmelden",
  "household.done": "{name} ist abgemeldet; dieses Gerät bleibt angemeldet.",
  "settings.title": "Einstellungen",
  "settings.language": "Sprache",
  "settings.theme": "Erscheinungsbild",
  "settings.themeSystem": "Wie das System",
  "settings.themeLight": "Hell",
  "settings.themeDark": "Dunkel",
  "settings.leadTime": "Hinweis vor Ankunft des Kuriers (Minuten)",
  "settings.save": "Speichern",
  "settings.saved": "Gespeichert.",
  "settings.addresses": "Ausweichadressen",
  "settings.addressLabel": "Name",
  "settings.addressText": "Adresse",
  "settings.addAddress": "Adresse hinzufügen",
  "settings.remove": "Entfernen",
  "settings.policy": "Kuriere ohne Nachfrage einlassen",
  "settings.policyNone": "Keine Regel: Jede Lieferung wird nachgefragt.",
  "settings.policyVersion": "Version {v}, mit dem Haushaltsschlüssel signiert.",
  "settings.policyCarriers": "Paketdienste (durch Kommas getrennt, wie angekündigt)",
  "settings.policyDays": "Tage (z. B. mon-fri)",
  "settings.policyHours": "Uhrzeit (z. B. 08:00-18:00)",
  "settings.policyMaxWindow": "Längstes Zeitfenster (Minuten)",
  "settings.policySave": "Signieren und speichern",
  "settings.testPopup": "Testhinweis zeigen",
  "settings.testPopupSent": "Ein Testhinweis wurde gesendet.",
  "guests.title": "Gäste",
  "guests.empty": "Keine Gäste. Ein Gast öffnet mit eigenem Schlüssel, nur zu seinen Zeiten.",
  "guests.name": "Name",
  "guests.key": "Öffentlicher Schlüssel des Gasts",
  "guests.days": "Tage (z. B. mon-fri)",
  "guests.hours": "Uhrzeit (z. B. 08:00-12:00)",
  "guests.add": "Gast einladen",
  "guests.revoke": "Widerrufen",
  "guests.revoked": "widerrufen",
  "error.generic": "Etwas ist schiefgegangen, und die App konnte nicht sagen, was.",
};

export type Locale = "en" | "de";
export type Theme = "system" | "light" | "dark";

const dictionaries: Record<Locale, Record<Key, string>> = { en, de };

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem("doorstep.locale");
  if (saved === "en" || saved === "de") return saved;
  return globalThis.navigator?.language?.startsWith("de") ? "de" : "en";
}

export const prefs = $state({
  locale: initialLocale(),
  theme: (globalThis.localStorage?.getItem("doorstep.theme") as Theme | null) ?? "system",
});

/** The sentence for `key` in the current language, with `{name}` filled in. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  return translate(prefs.locale, key, params);
}

export function translate(locale: Locale, key: Key, params: Record<string, string | number> = {}): string {
  const text = dictionaries[locale][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export function hasKey(key: string): key is Key {
  return key in en;
}

export function setLocale(locale: Locale) {
  prefs.locale = locale;
  globalThis.localStorage?.setItem("doorstep.locale", locale);
  document.documentElement.lang = locale;
  tellShell();
}

/** Popups come from the Rust side: it is told the language too. */
function tellShell() {
  commands.setLanguage(prefs.locale).catch(() => {
    // Outside the app (unit tests) there is no shell to tell.
  });
}

export function setTheme(theme: Theme) {
  prefs.theme = theme;
  globalThis.localStorage?.setItem("doorstep.theme", theme);
  applyTheme();
}

export function applyTheme() {
  tellShell();
  if (prefs.theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = prefs.theme;
  document.documentElement.lang = prefs.locale;
}

/** For the test: every key has a German sentence that is not the English one. */
export function untranslated(): Key[] {
  return (Object.keys(en) as Key[]).filter(
    (key) => de[key] === en[key] && !["app.online", "live.live", "home.online", "home.offline", "settings.addressLabel", "guests.name", "activity.system"].includes(key),
  );
}
