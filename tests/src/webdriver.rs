//! A small W3C WebDriver client for Debian's `chromium` driven headless by `chromedriver`:
//! just what the portal tests need (navigate, find, type, click, read, run a script).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The W3C key of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session; the driver process ends when this is dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// An element on the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts `chromedriver` on a free port and opens a headless Chromium session.
    pub fn start() -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let driver = Command::new(which("chromedriver")?)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start chromedriver: {e}"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
            _profile: profile,
        };
        browser.wait_until_ready()?;
        // The flags keep Chromium from reaching out to Google, which this network refuses.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let answer = browser.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": which("chromium")?, "args": args}
            }}}),
        )?;
        browser.session = answer["sessionId"]
            .as_str()
            .ok_or("no session id")?
            .to_owned();
        Ok(browser)
    }

    fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(status) = self.raw("GET", "/status", None)
                && status["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("chromedriver did not become ready".into())
    }

    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        // Every body-less call here is a GET, except closing the session.
        let url = format!("{}{path}", self.base);
        let mut response = match body {
            Some(body) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.to_string().as_bytes())
                .map_err(|e| e.to_string())?,
            None if method == "DELETE" => {
                self.agent.delete(&url).call().map_err(|e| e.to_string())?
            }
            None => self.agent.get(&url).call().map_err(|e| e.to_string())?,
        };
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }

    /// Calls a WebDriver endpoint; returns its `value`, or the driver's error.
    fn call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let answer = self.raw(method, path, Some(body))?;
        let value = answer["value"].clone();
        if let Some(error) = value.get("error") {
            return Err(format!("{error}: {}", value["message"]));
        }
        Ok(value)
    }

    /// GETs a WebDriver endpoint; returns its `value`, or the driver's error.
    fn call_get(&self, path: &str) -> Result<Value, String> {
        let answer = self.raw("GET", path, None)?;
        let value = answer["value"].clone();
        if let Some(error) = value.get("error") {
            return Err(format!("{error}: {}", value["message"]));
        }
        Ok(value)
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.call("POST", &self.session_path("/url"), json!({"url": url}))
            .map(drop)
    }

    /// The first element matching a CSS selector, waiting up to 10 s for it to appear.
    pub fn find(&self, css: &str) -> Result<Element<'_>, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.call(
                "POST",
                &self.session_path("/element"),
                json!({"using": "css selector", "value": css}),
            );
            match found {
                Ok(value) => {
                    let id = value[ELEMENT_KEY].as_str().ok_or("no element id")?;
                    return Ok(Element {
                        browser: self,
                        id: id.to_owned(),
                    });
                }
                Err(error) if Instant::now() > deadline => {
                    return Err(format!("{css}: {error}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Runs a script in the page and returns its result.
    pub fn script(&self, script: &str) -> Result<Value, String> {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            json!({"script": script, "args": []}),
        )
    }

    /// Runs an asynchronous script; it calls `arguments[arguments.length - 1]` with the result.
    pub fn async_script(&self, script: &str) -> Result<Value, String> {
        self.call(
            "POST",
            &self.session_path("/execute/async"),
            json!({"script": script, "args": []}),
        )
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver.
    pub fn cdp(&self, command: &str, params: Value) -> Result<Value, String> {
        self.call(
            "POST",
            &self.session_path("/goog/cdp/execute"),
            json!({"cmd": command, "params": params}),
        )
    }

    /// From the next page on, records every Content-Security-Policy violation of each page
    /// (the listener is installed by DevTools before any script of the page runs, and is
    /// itself exempt from the page's policy); read them with [`Browser::csp_violations`].
    pub fn watch_csp(&self) -> Result<(), String> {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__cspViolations = [];
                document.addEventListener('securitypolicyviolation', function (e) {
                    window.__cspViolations.push(e.violatedDirective + ' blocked ' +
                        (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
                });"}),
        )
        .map(drop)
    }

    /// The CSP violations of the current page so far (see [`Browser::watch_csp`]).
    pub fn csp_violations(&self) -> Result<Vec<String>, String> {
        let value = self.script("return window.__cspViolations || null;")?;
        let list = value
            .as_array()
            .ok_or("the CSP watcher is not installed on this page")?;
        Ok(list
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect())
    }

    /// The page's title.
    pub fn title(&self) -> Result<String, String> {
        self.script("return document.title;")
            .map(|v| v.as_str().unwrap_or_default().to_owned())
    }

    /// Waits (up to 10 s) until the page's title contains `part`: a click that submits a
    /// form may return before the page it leads to (through a redirect) has loaded.
    pub fn wait_for_title(&self, part: &str) -> Result<String, String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let title = self.title()?;
            if title.contains(part) {
                return Ok(title);
            }
            if std::time::Instant::now() > deadline {
                let text = self.page_text().unwrap_or_default();
                return Err(format!(
                    "the title stayed {title:?}, not one with {part:?}; the page: {text}"
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Sends `value` as every request's `Accept-Language` from now on (as a browser set to
    /// that language does).
    pub fn accept_language(&self, value: &str) -> Result<(), String> {
        self.cdp("Network.enable", json!({}))?;
        self.cdp(
            "Network.setExtraHTTPHeaders",
            json!({"headers": {"Accept-Language": value}}),
        )
        .map(drop)
    }

    /// A PNG screenshot of the window.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        let value = self.call_get(&self.session_path("/screenshot"))?;
        let data = value.as_str().ok_or("no screenshot data")?;
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| e.to_string())
    }

    /// The `lang` attribute of the page's `<html>`.
    pub fn page_lang(&self) -> Result<String, String> {
        self.script("return document.documentElement.lang;")
            .map(|v| v.as_str().unwrap_or_default().to_owned())
    }

    /// The visible text of the whole page.
    pub fn page_text(&self) -> Result<String, String> {
        self.script("return document.body.innerText;")
            .map(|v| v.as_str().unwrap_or_default().to_owned())
    }
}

impl Element<'_> {
    /// Types `text` into the element.
    pub fn type_text(&self, text: &str) -> Result<(), String> {
        let path = self
            .browser
            .session_path(&format!("/element/{}/value", self.id));
        self.browser
            .call("POST", &path, json!({"text": text}))
            .map(drop)
    }

    /// Clicks the element.
    pub fn click(&self) -> Result<(), String> {
        let path = self
            .browser
            .session_path(&format!("/element/{}/click", self.id));
        self.browser.call("POST", &path, json!({})).map(drop)
    }

    /// The element's visible text.
    pub fn text(&self) -> Result<String, String> {
        let path = self
            .browser
            .session_path(&format!("/element/{}/text", self.id));
        self.browser
            .raw("GET", &path, None)
            .map(|v| v["value"].as_str().unwrap_or_default().to_owned())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.raw("DELETE", &self.session_path(""), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The path of a program on PATH, or a clear error naming the Debian package.
fn which(program: &str) -> Result<String, String> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .map(|path| path.display().to_string())
        .ok_or_else(|| {
            format!(
                "{program} not found: install Debian's chromium and chromium-driver (.ci/run does)"
            )
        })
}
