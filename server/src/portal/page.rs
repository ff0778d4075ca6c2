//! The page layout and HTML escaping.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;color:#1a1a1a;\
background:#fff}header{background:#0b3d91;color:#fff;padding:.75rem 1rem}header a{color:#fff}\
main{max-width:40rem;margin:0 auto;padding:1rem}label{display:block;margin-top:1rem;\
font-weight:600}input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;\
border:1px solid #555;border-radius:4px}button{font-size:1rem;margin-top:1rem;padding:.6rem 1.2rem;\
background:#0b3d91;color:#fff;border:0;border-radius:4px;cursor:pointer}\
button.secondary{background:#fff;color:#0b3d91;border:2px solid #0b3d91}\
a{color:#0b3d91}.number{font-size:3rem;font-weight:700;letter-spacing:.2em}\
.error{color:#a00000;font-weight:600}.note{color:#444}code{word-break:break-all}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;\
border-bottom:1px solid #ccc}:focus-visible{outline:3px solid #e8a000;outline-offset:2px}";

/// A whole page: `title` is the heading too; `body` is trusted HTML.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let title = esc(title);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} – City account</title><style>{STYLE}</style></head>\
<body><header><a href=\"/\">City account</a></header><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (status, Html(html)).into_response()
}

/// An error paragraph, announced to screen readers.
pub fn error(message: &str) -> String {
    format!("<p class=\"error\" role=\"alert\">{}</p>", esc(message))
}

/// A labelled input.
pub fn input(name: &str, label: &str, kind: &str, autocomplete: &str) -> String {
    format!(
        "<label for=\"{name}\">{label}</label>\
<input id=\"{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\" required>"
    )
}

/// A hidden input.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        esc(value)
    )
}

/// A script that polls `status_url` and submits form `form_id` once the state is
/// `verified`, or shows why not. Without script, the form's button does the same.
pub fn poll_script(status_url: &str, form_id: &str) -> String {
    format!(
        "<p id=\"status\" role=\"status\" class=\"note\"></p><script>\
(function(){{var s=document.getElementById('status');\
function tick(){{fetch('{status_url}').then(function(r){{return r.json();}}).then(function(b){{\
if(b.state==='verified'){{document.getElementById('{form_id}').submit();return;}}\
if(b.state==='denied'){{s.textContent='The request was denied on the phone.';return;}}\
if(b.state==='expired'){{s.textContent='The request expired. Please start again.';return;}}\
setTimeout(tick,2000);}}).catch(function(){{setTimeout(tick,5000);}});}}\
setTimeout(tick,2000);}})();</script>"
    )
}
