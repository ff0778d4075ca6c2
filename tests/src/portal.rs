//! The employee's browser on the reset portal's HTML pages, over real HTTP: form posts,
//! a cookie jar (the portal binds a reset to the browser that started it), no redirects
//! followed, readers for the fields and the number a page shows, and the portal's own
//! steps of a reset, a password change and a sign-in, approved on the phone with that
//! number.

use std::cell::RefCell;
use std::time::Duration;

use crate::Phone;

/// A page the portal answered with.
#[derive(Debug)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub html: String,
    /// Where a redirect points.
    pub location: Option<String>,
}

impl Page {
    /// The value of the hidden field `name`, if the page has one.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.html.find(&marker)? + marker.len();
        self.html[at..].split('"').next().map(str::to_owned)
    }

    /// The number the page asks the employee to type on the phone.
    pub fn number(&self) -> Option<String> {
        let at = self.html.find("class=\"number\"")?;
        let rest = &self.html[at..];
        let text = &rest[rest.find('>')? + 1..];
        text.split('<').next().map(|n| n.trim().to_owned())
    }
}

/// A browser on one server: keeps the cookies it is given and sends them back.
pub struct Browser {
    base: String,
    agent: ureq::Agent,
    jar: RefCell<Vec<(String, String)>>,
}

impl Browser {
    /// A browser with no cookies, on the server at `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Self {
            base: base.to_owned(),
            agent,
            jar: RefCell::new(Vec::new()),
        }
    }

    /// Sets (or replaces) a cookie, as one the server set earlier would be sent back.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.jar.borrow_mut();
        jar.retain(|(n, _)| n != name);
        jar.push((name.to_owned(), value.to_owned()));
    }

    /// "Forgot my password" for `username`: the page with the number (answered 200, known
    /// name or not).
    pub fn forgot(&self, username: &str) -> Page {
        let page = self.post("/forgot", &[("username", username)]);
        assert_eq!(page.status, 200, "{}", page.html);
        page
    }

    /// The phone approves the one challenge waiting, typing the number `waiting` shows;
    /// the browser continues to the new-password page. The reset's id and that page.
    pub fn continue_reset(&self, phone: &Phone, waiting: &Page) -> (String, Page) {
        let id = waiting.field("id").expect("the reset's id");
        phone.approve(&waiting.number().expect("the number to type"));
        let next = self.post("/forgot/continue", &[("id", &id)]);
        assert_eq!(next.status, 200, "{}", next.html);
        (id, next)
    }

    /// A reset of `username` started on the portal's pages and approved on `phone` with
    /// the number they show: its id and the new-password page.
    pub fn verified_reset(&self, username: &str, phone: &Phone) -> (String, Page) {
        let waiting = self.forgot(username);
        self.continue_reset(phone, &waiting)
    }

    /// Submits `password` on the new-password page of the verified reset `id`; the page
    /// answered (done, refused with the form again, or the directory unreachable).
    pub fn new_password(&self, id: &str, password: &str) -> Page {
        self.post("/forgot/password", &[("id", id), ("password", password)])
    }

    /// A password change from `current` to `new` asked for while signed in: the page with
    /// the number (nothing is written before the phone approves).
    pub fn change_password(&self, current: &str, new: &str) -> Page {
        let page = self.post("/password", &[("current", current), ("new", new)]);
        assert_eq!(page.status, 200, "{}", page.html);
        page
    }

    /// The phone approves the password change `waiting` shows, typing its number; the page
    /// the browser continues to (a redirect once changed, the form again if refused).
    pub fn continue_change(&self, phone: &Phone, waiting: &Page) -> Page {
        let id = waiting.field("id").expect("the change's id");
        phone.approve(&waiting.number().expect("the number to type"));
        self.post("/password/continue", &[("id", &id)])
    }

    /// Signs in on the portal's pages as `username` with `password`, approved on `phone`
    /// with the number shown; ends signed in (the redirect to the account page).
    pub fn sign_in(&self, username: &str, password: &str, phone: &Phone) {
        let waiting = self.post("/signin", &[("username", username), ("password", password)]);
        assert_eq!(waiting.status, 200, "{}", waiting.html);
        let id = waiting.field("id").expect("the sign-in's id");
        phone.approve(&waiting.number().expect("the number to type"));
        let signed = self.post("/signin/continue", &[("id", &id)]);
        assert_eq!(signed.status, 303, "{}", signed.html);
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Page {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(cookies) = self.cookies() {
            request = request.header("cookie", cookies);
        }
        self.read(request.call().expect("the portal answers"))
    }

    /// `POST path` with a form, as the page's own form would (same origin).
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base);
        if let Some(cookies) = self.cookies() {
            request = request.header("cookie", cookies);
        }
        self.read(
            request
                .send_form(form.iter().copied())
                .expect("the portal answers"),
        )
    }

    /// The values of the cookies it holds (session and flow tokens, for tests that look
    /// for them where they must not be).
    pub fn cookie_values(&self) -> Vec<String> {
        self.jar.borrow().iter().map(|(_, v)| v.clone()).collect()
    }

    fn cookies(&self) -> Option<String> {
        let jar = self.jar.borrow();
        let pairs: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn read(&self, mut response: ureq::http::Response<ureq::Body>) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            let (name, content) = pair.split_once('=').unwrap_or((pair, ""));
            let mut jar = self.jar.borrow_mut();
            jar.retain(|(n, _)| n != name);
            if !value.to_ascii_lowercase().contains("max-age=0") {
                jar.push((name.to_owned(), content.to_owned()));
            }
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Page {
            status: response.status().as_u16(),
            html: response.body_mut().read_to_string().unwrap_or_default(),
            location,
        }
    }
}
