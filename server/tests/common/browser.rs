//! A browser for the portal tests: a cookie jar over ureq (redirects not followed), form
//! posts, and the headers and body of each page.

use std::cell::RefCell;
use std::time::Duration;

use super::Harness;

/// A page: status, headers, body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub html: String,
    pub location: Option<String>,
    /// Every header, names lowercase, in order.
    pub headers: Vec<(String, String)>,
}

impl Page {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A browser: keeps the cookies the server sets, sends them back.
pub struct Browser<'h> {
    h: &'h Harness,
    agent: ureq::Agent,
    cookies: RefCell<Vec<(String, String)>>,
    /// Headers every request carries (e.g. a browser's `Origin`).
    extra: RefCell<Vec<(String, String)>>,
}

impl<'h> Browser<'h> {
    pub fn new(h: &'h Harness) -> Self {
        Self {
            h,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
            cookies: RefCell::new(Vec::new()),
            extra: RefCell::new(Vec::new()),
        }
    }

    /// Adds a header to every later request.
    pub fn always(&self, name: &str, value: &str) {
        self.extra.borrow_mut().push((name.into(), value.into()));
    }

    /// The value of cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Sets (or replaces) a cookie, as another site or a copy of it would.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.cookies.borrow_mut();
        jar.retain(|(n, _)| n != name);
        jar.push((name.into(), value.into()));
    }

    fn cookie_header(&self) -> Option<String> {
        let jar = self.cookies.borrow();
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn finish(&self, mut response: ureq::http::Response<ureq::Body>) -> Page {
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        for (name, value) in &headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or("");
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            let mut jar = self.cookies.borrow_mut();
            jar.retain(|(k, _)| k != n);
            if !value.contains("Max-Age=0") {
                jar.push((n.to_owned(), v.to_owned()));
            }
        }
        let location = headers
            .iter()
            .find(|(n, _)| n == "location")
            .map(|(_, v)| v.clone());
        let page = Page {
            status: response.status().as_u16(),
            html: response.body_mut().read_to_string().unwrap_or_default(),
            location,
            headers,
        };
        self.h.settle();
        page
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Page {
        let mut request = self.agent.get(self.h.url(path));
        if let Some(cookie) = self.cookie_header() {
            request = request.header("cookie", cookie);
        }
        for (k, v) in self.extra.borrow().iter() {
            request = request.header(k, v);
        }
        self.finish(request.call().unwrap())
    }

    /// `POST path` with a form.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, &[])
    }

    /// `POST path` with a form and extra headers.
    pub fn post_with(&self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut request = self.agent.post(self.h.url(path));
        if let Some(cookie) = self.cookie_header() {
            request = request.header("cookie", cookie);
        }
        for (k, v) in self.extra.borrow().iter() {
            request = request.header(k, v);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(request.send_form(fields.iter().copied()).unwrap())
    }

    /// Signs in with `password` (the account has no phone, so no approval is asked).
    pub fn sign_in_without_phone(&self, username: &str, password: &str) {
        let signed = self.post("/signin", &[("username", username), ("password", password)]);
        assert_eq!(signed.status, 303, "{}", signed.html);
        assert!(self.cookie("cityauth_session").is_some());
    }

    /// Answers "Remind me later" to the prompt to register a phone (issue 13), so that
    /// Security info opens for this session of an account without one.
    pub fn remind_later(&self) {
        let later = self.post("/security/register/later", &[]);
        assert_eq!(later.status, 303, "{}", later.html);
        assert_eq!(later.location.as_deref(), Some("/security"));
    }
}

/// The value of hidden field `name`.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}: {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The number the page asks to type on the phone.
pub fn shown_number(html: &str) -> String {
    let start = html
        .find("class=\"number\"")
        .unwrap_or_else(|| panic!("no number: {html}"));
    let text = &html[start..];
    let open = text.find('>').unwrap() + 1;
    text[open..].split('<').next().unwrap().to_owned()
}
