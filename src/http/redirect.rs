//! The redirect rules: which statuses are followed, where a `Location`
//! leads, and which targets are refused.
//!
//! [`Client::get`](super::Client::get) follows redirects by these rules. They
//! live apart from it so that code driving another client hop by hop (the
//! pipeline's blocking downloads tell ureq to follow nothing itself) follows
//! exactly the same redirects, refuses the same ones, and says so in the
//! same words.

use super::error::{ErrorKind, HttpError};
use super::url::Url;

/// Whether a response with this status is a redirect to follow: 301, 302,
/// 303, 307 or 308, when it has a `Location`. (300 Multiple Choices and 305
/// Use Proxy are not followed; 304 Not Modified is no redirect.) A redirect
/// status without a `Location` is the final answer.
pub(crate) fn is_followed(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The URLs fetched so far for one request, first to last, and how many
/// redirects may follow the first.
#[derive(Debug, Clone)]
pub(crate) struct Redirects {
    chain: Vec<Url>,
    max: usize,
}

impl Redirects {
    /// A request to `first`, allowed `max` redirects.
    pub(crate) fn new(first: Url, max: usize) -> Redirects {
        Redirects {
            chain: vec![first],
            max,
        }
    }

    /// The URL to fetch now: the first, or where the last redirect led.
    pub(crate) fn current(&self) -> &Url {
        self.chain.last().expect("the chain starts with one URL")
    }

    /// Follows the current URL's redirect to `location` (resolved against
    /// the current URL), which becomes the current URL.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Url`] for a `Location` that does not resolve to an
    /// `http` or `https` URL; with the current URL attached,
    /// [`ErrorKind::InsecureRedirect`] from `https` to `http`,
    /// [`ErrorKind::RedirectLoop`] back to a URL already fetched,
    /// [`ErrorKind::TooManyRedirects`] past the limit.
    pub(crate) fn follow(&mut self, location: &str) -> Result<&Url, HttpError> {
        let current = self.current();
        let next = current.join(location)?;
        let refuse = |kind: ErrorKind| Err(HttpError::new(kind).with_url(current));
        if current.is_https() && !next.is_https() {
            return refuse(ErrorKind::InsecureRedirect {
                to: next.to_string(),
            });
        }
        let seen = self.chain.contains(&next);
        let too_many = self.chain.len() > self.max;
        if seen || too_many {
            let mut urls: Vec<String> = self.chain.iter().map(Url::to_string).collect();
            urls.push(next.to_string());
            return refuse(if seen {
                ErrorKind::RedirectLoop { chain: urls }
            } else {
                ErrorKind::TooManyRedirects {
                    limit: self.max,
                    chain: urls,
                }
            });
        }
        self.chain.push(next);
        Ok(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a valid test URL")
    }

    #[test]
    fn follows_relative_locations_and_refuses_loops_limits_and_downgrades() {
        let mut redirects = Redirects::new(url("http://a.test/x/start"), 2);
        assert_eq!(
            redirects.follow("next").unwrap().to_string(),
            "http://a.test/x/next"
        );
        let err = redirects.follow("/x/start").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::RedirectLoop { chain } if chain.len() == 3));
        assert_eq!(err.url(), Some("http://a.test/x/next"));
        redirects.follow("https://b.test/").unwrap();
        let err = redirects.follow("https://c.test/").unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::TooManyRedirects { limit: 2, .. }
        ));

        let mut secure = Redirects::new(url("https://a.test/"), 5);
        let err = secure.follow("http://a.test/").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InsecureRedirect { .. }));
        assert_eq!(secure.current().to_string(), "https://a.test/");
    }

    #[test]
    fn only_the_five_redirect_statuses_are_followed() {
        let followed: Vec<u16> = (100..600).filter(|s| is_followed(*s)).collect();
        assert_eq!(followed, [301, 302, 303, 307, 308]);
    }
}
