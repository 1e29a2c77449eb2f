//! The real app window (test configuration) under Xvfb, driven through WebDriver.

use harness::{AppUnderTest, DesktopSession};

#[tokio::test]
async fn the_computer_check_button_asks_rust_and_shows_its_answer() {
    let desktop = DesktopSession::start().unwrap();
    let app = AppUnderTest::launch(&desktop).await.unwrap();
    app.screenshot("welcome").await.unwrap();

    app.click("[data-testid=run-check]").await.unwrap();

    let headline = app.text("[data-testid=check-headline]").await.unwrap();
    assert_eq!(headline, "This computer has everything Doorstep needs.");
    let keyring = app.text("[data-testid=check-keyring]").await.unwrap();
    assert!(keyring.contains("stores and returns secrets"), "{keyring}");
    let popups = app.text("[data-testid=check-notifications]").await.unwrap();
    assert!(popups.contains("dunst"), "{popups}");
    // The test build keeps its data in the test's own folder, under its own identifier.
    let meta = app.text("[data-testid=check-result] .meta").await.unwrap();
    let expected = desktop.doorstep_home().join("dev.doorstep.app.e2e");
    assert!(meta.contains(&expected.display().to_string()), "{meta}");
    app.screenshot("welcome-computer-checked").await.unwrap();

    app.close().await.unwrap();
}

#[tokio::test]
async fn buttons_that_lead_nowhere_yet_say_so() {
    let desktop = DesktopSession::start().unwrap();
    let app = AppUnderTest::launch(&desktop).await.unwrap();

    app.click("[data-testid=sign-in]").await.unwrap();
    let notice = app.text("[data-testid=notice]").await.unwrap();
    assert!(notice.contains("does not include yet"), "{notice}");

    app.click("[data-testid=try-demo]").await.unwrap();
    let notice = app.text("[data-testid=notice]").await.unwrap();
    assert!(notice.contains("demo home"), "{notice}");
    app.screenshot("welcome-not-yet").await.unwrap();

    app.close().await.unwrap();
}
