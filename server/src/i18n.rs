//! The languages the portal, the console, the emails and the push texts speak: message
//! catalogues in Fluent (`server/locales/<lang>/*.ftl`, compiled in), and the choice of a
//! language for a request (the remembered switch first, then `Accept-Language`).
//!
//! A key missing in one language is a test failure (`every_key_is_in_every_language`), never
//! a blank on a page: a lookup that finds nothing shows the key itself.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: the pages and emails are plain text
        // and HTML, where the marks would show as stray characters in some mail clients.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The name of the cookie that remembers the language switch.
pub const COOKIE: &str = "cityauth_lang";

/// A language the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every language, in the order the switch lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 tag (`en`, `es`): the page's `lang` attribute and the stored preference.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language of a tag (`es`, `es-MX`, `EN-us`); `None` for a language not spoken here.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("es") {
            Some(Lang::Es)
        } else {
            None
        }
    }

    /// The language's own name, as the switch shows it ("English", "Español").
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    fn identifier(self) -> LanguageIdentifier {
        match self {
            Lang::En => fluent_templates::langid!("en"),
            Lang::Es => fluent_templates::langid!("es"),
        }
    }

    /// The message `key` in this language; the key itself if no catalogue has it.
    pub fn text(self, key: &str) -> String {
        LOCALES
            .try_lookup(&self.identifier(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The message `key` with its `{ $name }` arguments filled in from `args`.
    pub fn text_with(self, key: &str, args: &[(&'static str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(*value)))
            .collect();
        LOCALES
            .try_lookup_with_args(&self.identifier(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// A time (Unix seconds) as a person of this language reads a date and a time of day:
    /// "2 March 2026, 14:05 UTC", "2 de marzo de 2026, 14:05 UTC". In UTC: the server knows
    /// no employee's time zone, and says so rather than guess.
    pub fn date_time(self, unix: u64) -> String {
        let (year, month, day) = crate::util::civil_date(unix / 86_400);
        let seconds = unix % 86_400;
        let time = format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60);
        let month = self.text(&format!("date-month-{month}"));
        self.text_with(
            "date-time",
            &[
                ("day", &day.to_string()),
                ("month", &month),
                ("year", &year.to_string()),
                ("time", &time),
            ],
        )
    }
}

/// The language of a request: the switch's cookie if it names a language spoken here, else
/// the best of `Accept-Language` by its q-values, else English.
pub fn negotiate(headers: &HeaderMap) -> Lang {
    remembered(headers)
        .or_else(|| accepted(headers))
        .unwrap_or_default()
}

/// The language the switch remembered, if any.
fn remembered(headers: &HeaderMap) -> Option<Lang> {
    crate::util::cookie(headers, COOKIE).and_then(|value| Lang::from_tag(&value))
}

/// The most preferred language of `Accept-Language` spoken here (RFC 9110 §12.5.4: a
/// weight of 0 means "not acceptable"; ties go to the earlier entry).
fn accepted(headers: &HeaderMap) -> Option<Lang> {
    let mut best: Option<(Lang, u16)> = None;
    for value in headers.get_all(header::ACCEPT_LANGUAGE) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',').take(32) {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), weight_of);
            let Some(weight) = weight.filter(|w| *w > 0) else {
                continue;
            };
            if best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
    }
    best.map(|(lang, _)| lang)
}

/// A q-value (`0.8`) in thousandths; `None` when it is not one.
fn weight_of(q: &str) -> Option<u16> {
    let q = q.trim();
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1,
        _ => return None,
    };
    let fraction: u16 = format!("{fraction:0<3}").parse().ok()?;
    let weight = whole * 1000 + fraction;
    (weight <= 1000).then_some(weight)
}

/// Where the switch may send the browser back to: a path on this server only (`/x`, never
/// `//host` or `/\host`, which a browser reads as another site).
fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= 512
                && !path.bytes().any(|b| b.is_ascii_control()) =>
        {
            path
        }
        _ => "/",
    }
}

/// The switch's query: the page to go back to.
#[derive(Debug, serde::Deserialize)]
pub struct SwitchQuery {
    back: Option<String>,
}

/// `GET /lang/{code}?back=/path`: remembers the language for a year and goes back to the
/// page (a preference, not an action: a cross-site link can only change the language).
pub async fn switch(Path(code): Path<String>, Query(query): Query<SwitchQuery>) -> Response {
    let Some(lang) = Lang::from_tag(&code).filter(|l| l.code() == code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(local_path(query.back.as_deref())) {
        headers.insert(header::LOCATION, location);
    }
    let cookie = format!(
        "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.code()
    );
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

tokio::task_local! {
    /// The language and path of the request being answered ([`scope`] sets it).
    static CURRENT: Tr;
}

/// Middleware: answers the request with its negotiated language in scope, so the pages it
/// renders ([`Tr::current`]) speak it without every handler passing it along.
pub async fn scope(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    // The switch comes back to the page by GET, with its query (an employee looked up on the
    // help-desk console stays looked up); a page that answered a form comes back home.
    let back = match request.uri().path_and_query() {
        Some(page) if request.method() == axum::http::Method::GET => page.as_str(),
        _ => "/",
    };
    let chosen = remembered(request.headers()).or_else(|| accepted(request.headers()));
    let mut tr = Tr::new(chosen.unwrap_or_default(), back);
    tr.chosen = chosen.is_some();
    CURRENT.scope(tr, next.run(request)).await
}

/// The language the request being answered asked for, if it named one (a browser does; a
/// phone's or the CLI's API call does not); `None` outside a request.
pub fn chosen() -> Option<Lang> {
    CURRENT
        .try_with(|tr| tr.chosen.then_some(tr.lang))
        .ok()
        .flatten()
}

/// What a page template needs to speak its language: `{{ t.text("key") }}`, the page's
/// `lang` attribute, and the switch's links back to the page.
#[derive(Debug, Clone)]
pub struct Tr {
    /// The page's language.
    pub lang: Lang,
    /// The page's own path (the switch comes back to it).
    pub path: String,
    /// Whether the request named the language (the switch's cookie, `Accept-Language`),
    /// rather than getting English for want of one.
    pub chosen: bool,
}

impl Tr {
    /// A translator for the page at `path` in `lang`.
    pub fn new(lang: Lang, path: &str) -> Self {
        Tr {
            lang,
            path: local_path(Some(path)).to_owned(),
            chosen: false,
        }
    }

    /// The request's translator (set by [`scope`]); English at `/` outside a request.
    pub fn current() -> Self {
        CURRENT
            .try_with(Tr::clone)
            .unwrap_or_else(|_| Tr::new(Lang::En, "/"))
    }

    /// The message `key`.
    pub fn text(&self, key: &str) -> String {
        self.lang.text(key)
    }

    /// The message `key` with one argument.
    pub fn text1(&self, key: &str, name: &'static str, value: &str) -> String {
        self.lang.text_with(key, &[(name, value)])
    }

    /// The message `key` with two arguments.
    pub fn text2(
        &self,
        key: &str,
        name1: &'static str,
        value1: &str,
        name2: &'static str,
        value2: &str,
    ) -> String {
        self.lang
            .text_with(key, &[(name1, value1), (name2, value2)])
    }

    /// The page's language tag.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// The switch: (tag, own name, link, whether it is the page's language) for each language.
    pub fn switch(&self) -> Vec<(&'static str, &'static str, String, bool)> {
        let back: String =
            percent_encoding::utf8_percent_encode(&self.path, percent_encoding::NON_ALPHANUMERIC)
                .collect();
        Lang::ALL
            .iter()
            .map(|&l| {
                (
                    l.code(),
                    l.name(),
                    format!("/lang/{}?back={back}", l.code()),
                    l == self.lang,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The messages of every `.ftl` file of `lang` (an id is a line `id = …` at column 0;
    /// terms `-id` included), as "file: id", with the `{ $argument }` names their text uses.
    fn messages(lang: Lang) -> BTreeMap<String, Vec<&'static str>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang.code());
        let mut messages = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("ftl") {
                continue;
            }
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let text: &'static str = std::fs::read_to_string(&path).unwrap().leak();
            let mut current: Option<String> = None;
            for line in text.lines() {
                let starts_an_id = line
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '-');
                if let Some((id, _)) = line.split_once('=').filter(|_| starts_an_id) {
                    let key = format!("{file}: {}", id.trim());
                    messages.insert(key.clone(), Vec::new());
                    current = Some(key);
                }
                if let Some(key) = &current {
                    let arguments = messages.get_mut(key).unwrap();
                    for (i, _) in line.match_indices('$') {
                        let name = &line[i + 1..];
                        let end = name
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                            .unwrap_or(name.len());
                        arguments.push(&name[..end]);
                    }
                }
            }
        }
        messages
    }

    #[test]
    fn every_key_is_in_every_language() {
        let english = messages(Lang::En);
        assert!(english.len() > 1, "the English catalogue is read");
        for lang in Lang::ALL {
            let other = messages(lang);
            let missing: Vec<_> = english.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(
                missing.is_empty(),
                "missing in {}: {missing:?}",
                lang.code()
            );
            assert!(extra.is_empty(), "only in {}: {extra:?}", lang.code());
            for (key, arguments) in other {
                let id = key.split_once(": ").unwrap().1;
                if id.starts_with('-') {
                    continue;
                }
                let args: Vec<(&'static str, &str)> =
                    arguments.iter().map(|name| (*name, "x")).collect();
                assert_ne!(
                    lang.text_with(id, &args),
                    id,
                    "{id} does not resolve in {}",
                    lang.code()
                );
            }
        }
    }

    /// Every `"prefix-…"` string literal of the files under `dir` with one of `prefixes`.
    fn literals(dir: &str, prefixes: &[&str]) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(literals(path.to_str().unwrap(), prefixes));
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            for literal in text.split('"').skip(1).step_by(2) {
                let is_key = literal
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if is_key && prefixes.iter().any(|p| literal.starts_with(p)) {
                    found.push(literal.to_owned());
                }
            }
        }
        found
    }

    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue() {
        let catalogue: Vec<String> = messages(Lang::En)
            .into_keys()
            .map(|k| k.split_once(": ").unwrap().1.to_owned())
            .collect();
        let prefixes = [
            "title-",
            "notice-",
            "link-",
            "msg-",
            "security-",
            "waiting-",
            "field-",
            "button-",
            "home-",
            "forgot-",
            "enroll-",
            "unlock-",
            "access-code-",
            "site-",
            "lang-",
            "helpdesk-",
            "register-",
            "date-",
        ];
        let mut used = literals("templates", &prefixes);
        used.extend(literals("src/portal", &prefixes));
        assert!(
            used.len() > 50,
            "the pages' keys are found ({})",
            used.len()
        );
        // Every error code the API answers with has its sentence (view::error_text).
        let errors = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/error.rs"),
        )
        .unwrap();
        for line in errors.lines().filter(|l| l.contains("(StatusCode::")) {
            let code = line.rsplit('"').nth(1).unwrap();
            used.push(format!("error-{}", code.replace('_', "-")));
        }
        let missing: Vec<_> = used.iter().filter(|k| !catalogue.contains(k)).collect();
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    #[test]
    fn the_catalogues_speak_their_language() {
        assert_eq!(Lang::En.text("lang-switch-label"), "Language");
        assert_eq!(Lang::Es.text("lang-switch-label"), "Idioma");
        assert_eq!(Lang::Es.text("no-such-key"), "no-such-key");
    }

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_language_picks_the_most_preferred_language_spoken_here() {
        let pick = |v: &str| negotiate(&with(header::ACCEPT_LANGUAGE, v));
        assert_eq!(pick("es-MX,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(pick("fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4"), Lang::Es);
        assert_eq!(pick("en;q=0.5, es;q=0.7"), Lang::Es);
        assert_eq!(pick("es;q=0, en;q=0.1"), Lang::En);
        assert_eq!(pick("es;q=0"), Lang::En);
        assert_eq!(pick("de"), Lang::En);
        assert_eq!(pick("es;q=2"), Lang::En, "an invalid weight is ignored");
        assert_eq!(negotiate(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn the_remembered_switch_wins_over_accept_language() {
        let mut headers = with(header::ACCEPT_LANGUAGE, "en");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; cityauth_lang=es"),
        );
        assert_eq!(negotiate(&headers), Lang::Es);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("cityauth_lang=klingon"),
        );
        assert_eq!(negotiate(&headers), Lang::En);
    }

    #[test]
    fn the_switch_comes_back_to_the_page_with_its_query() {
        let tr = Tr::new(Lang::En, "/helpdesk/employee?username=alice&verification=x");
        let (_, _, href, _) = tr.switch().into_iter().find(|s| s.0 == "es").unwrap();
        let back = href.split_once("?back=").unwrap().1;
        let decoded = percent_encoding::percent_decode_str(back)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, "/helpdesk/employee?username=alice&verification=x");
        assert!(
            !back.contains('&') && !back.contains('?'),
            "one query value: {back}"
        );
    }

    #[test]
    fn the_switch_goes_back_only_to_this_server() {
        assert_eq!(local_path(Some("/forgot")), "/forgot");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/a\r\nSet-Cookie: x")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn dates_are_written_in_the_language_of_the_page() {
        use crate::util::civil_date;
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29), "a leap day");
        assert_eq!(civil_date(20_514), (2026, 3, 2));
        // 2026-03-02 14:05:09 UTC.
        let at = 20_514 * 86_400 + 14 * 3600 + 5 * 60 + 9;
        assert_eq!(Lang::En.date_time(at), "2 March 2026, 14:05 UTC");
        assert_eq!(Lang::Es.date_time(at), "2 de marzo de 2026, 14:05 UTC");
        assert_eq!(Lang::En.date_time(0), "1 January 1970, 00:00 UTC");
    }

    #[test]
    fn arguments_are_filled_in() {
        let text = Lang::Es.text_with("lang-switch-current", &[("language", "Español")]);
        assert_eq!(text, "Idioma actual: Español");
    }
}
