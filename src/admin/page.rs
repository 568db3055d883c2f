//! `GET /`: a small self-contained page for people (`page.html`: inline CSS and vanilla JS,
//! nothing fetched from elsewhere) that asks `POST /v1/ask` and shows the answer — summary,
//! rows, chart, insights, follow-ups, EXPLAIN, SQL, timings — or the error.
//!
//! The admin responder writes a single `Content-Type` header line, so the page's reply type
//! carries its two security headers as further lines after the content type.

/// The page.
pub const PAGE: &str = include_str!("page.html");

/// The content type, followed by the page's security headers.
const CTYPE: &str = "text/html; charset=utf-8\r\n\
    Content-Security-Policy: default-src 'self'; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'\r\n\
    X-Content-Type-Options: nosniff";

/// The reply to `GET /`.
pub fn reply() -> super::Reply {
    ("200 OK", CTYPE, PAGE.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids the script looks up with `$("...")`.
    fn ids_used(page: &str) -> Vec<&str> {
        page.split("$(\"")
            .skip(1)
            .filter_map(|rest| rest.split_once("\")").map(|(id, _)| id))
            .collect()
    }

    #[test]
    fn the_page_is_small_self_contained_and_never_parses_server_text_as_html() {
        assert!(PAGE.len() < 40 * 1024, "page is {} bytes", PAGE.len());
        let lower = PAGE.to_ascii_lowercase();
        for banned in [
            "http://",
            "https://",
            "//cdn",
            "@import",
            "innerhtml",
            "outerhtml",
            "insertadjacenthtml",
            "document.write",
            "eval(",
            "new function",
        ] {
            assert!(!lower.contains(banned), "the page contains {banned:?}");
        }
        // Every element the script uses exists, exactly once.
        let ids = ids_used(PAGE);
        for want in [
            "ask-form",
            "question",
            "database",
            "token",
            "ask",
            "explain-toggle",
            "rows",
            "summary",
            "chart-img",
            "insights",
            "followups",
            "explain-rows",
            "sql",
            "meta",
            "error",
            "error-code",
            "error-hint",
        ] {
            assert!(ids.contains(&want), "the script does not use #{want}");
        }
        for id in ids {
            let n = PAGE.matches(&format!("id=\"{id}\"")).count();
            assert_eq!(n, 1, "#{id} is used by the script and defined {n} times");
        }
    }

    #[test]
    fn the_reply_is_html_with_its_security_headers() {
        let (status, ctype, body) = reply();
        assert_eq!(status, "200 OK");
        assert_eq!(body, PAGE);
        let lines: Vec<&str> = ctype.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "text/html; charset=utf-8",
                "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'",
                "X-Content-Type-Options: nosniff",
            ]
        );
    }
}
