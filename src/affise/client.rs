//! The network's Affise over HTTP: the few admin API calls the directory sync and
//! the decision push make (`docs/affise-sync.md` lists them), each with the key in
//! the `API-Key` header, a timeout, and Affise's envelope read (`status` 1, or 2
//! with `error`). An answer that does not parse is an error that says what was
//! wrong, never a silently empty page.

use std::time::Duration;

use serde_json::Value;

use crate::domain::directory_sync::{
    ManagerKey, ManagerRecord, OfferRecord, PartnerRecord, SmartlinkRecord, offer_status_from_affise,
    partner_status_from_affise, privacy_from_affise,
};

/// Where the network's Affise is and how to reach it.
#[derive(Clone, Debug)]
pub struct AffiseConfig {
    /// `https://api-network.affise.com` (no trailing `/3.0`).
    pub url: String,
    pub key: String,
    /// How often the directory is pulled (`None`: only by `affdesk sync`).
    pub sync_every: Option<Duration>,
    /// The pause after a failed push; it doubles after each failure.
    pub retry_after: Duration,
    /// How long one call may take.
    pub timeout: Duration,
    /// How often the push worker looks for due decisions.
    pub poll: Duration,
}

/// Records asked for per page.
pub const PAGE_SIZE: u32 = 100;

pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

/// One page of a list: its records and whether another page follows.
pub struct Page<T> {
    pub records: Vec<T>,
    pub next: Option<u32>,
}

impl Client {
    pub fn new(config: &AffiseConfig) -> Result<Client, String> {
        let base = config.url.trim().trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&base).map_err(|e| format!("--affise-url {base:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("--affise-url {base:?} must start with https:// (or http://)"));
        }
        if config.key.trim().is_empty() {
            return Err("--affise-key is empty".into());
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client { http, base, key: config.key.trim().to_string() })
    }

    async fn read(&self, what: &str, resp: Result<reqwest::Response, reqwest::Error>) -> Result<Value, String> {
        let resp = resp.map_err(|e| {
            if e.is_timeout() {
                format!("{what}: timeout")
            } else if e.is_connect() {
                format!("{what}: cannot connect to Affise")
            } else {
                format!("{what}: {e}")
            }
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| format!("{what}: the answer was cut off ({e})"))?;
        let json: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) if !status.is_success() => return Err(format!("{what}: Affise answered HTTP {}", status.as_u16())),
            Err(e) => return Err(format!("{what}: the answer is not JSON ({e})")),
        };
        let envelope = json.get("status").and_then(Value::as_i64);
        if envelope != Some(1) || !status.is_success() {
            let said = ["error", "message"]
                .iter()
                .find_map(|k| json.get(*k).and_then(Value::as_str))
                .map(|s| s.chars().take(300).collect::<String>());
            return Err(match said {
                Some(s) => format!("{what}: Affise said \"{s}\" (HTTP {})", status.as_u16()),
                None => format!("{what}: Affise answered HTTP {} without status 1", status.as_u16()),
            });
        }
        Ok(json)
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, String> {
        let resp = self.http.get(format!("{}{path}", self.base)).header("API-Key", &self.key).query(query).send().await;
        self.read(&format!("GET {path}"), resp).await
    }

    async fn post(&self, path: &str, form: &[(&str, String)]) -> Result<Value, String> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("API-Key", &self.key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        self.read(&format!("POST {path}"), resp).await
    }

    /// One page of a paginated list: the array under `key`, each item parsed.
    async fn page<T>(
        &self,
        path: &str,
        key: &str,
        page: u32,
        updated_from: Option<&str>,
        parse: fn(&Value) -> Result<T, String>,
    ) -> Result<Page<T>, String> {
        let mut query = vec![("page", page.to_string()), ("limit", PAGE_SIZE.to_string())];
        if let Some(from) = updated_from {
            query.push(("updated_from", from.to_string()));
        }
        let json = self.get(path, &query).await?;
        let items = json
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("GET {path}: the answer has no \"{key}\" list"))?;
        let records = items
            .iter()
            .enumerate()
            .map(|(i, item)| parse(item).map_err(|e| format!("GET {path} page {page}, item {}: {e}", i + 1)))
            .collect::<Result<Vec<T>, String>>()?;
        let next = json
            .get("pagination")
            .and_then(|p| p.get("next_page"))
            .and_then(|n| n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())))
            .map(|n| n as u32)
            .filter(|n| *n > page && !records.is_empty());
        Ok(Page { records, next })
    }

    pub async fn partners(&self, page: u32, updated_from: Option<&str>) -> Result<Page<PartnerRecord>, String> {
        self.page("/3.0/admin/partners", "partners", page, updated_from, parse_partner).await
    }

    /// Affiliate managers only: other users of Affise have no business in the desk.
    pub async fn managers(&self, page: u32) -> Result<Page<Option<ManagerRecord>>, String> {
        self.page("/3.0/admin/users", "users", page, None, parse_user).await
    }

    pub async fn offers(&self, page: u32, updated_from: Option<&str>) -> Result<Page<OfferRecord>, String> {
        self.page("/3.0/offers", "offers", page, updated_from, parse_offer).await
    }

    pub async fn smartlinks(&self, page: u32) -> Result<Page<SmartlinkRecord>, String> {
        self.page("/3.0/admin/smartlinks", "smartlinks", page, None, parse_smartlink).await
    }

    /// The partners enabled on a protected or private offer (their Affise ids).
    pub async fn offer_privacy(&self, affise_offer_id: &str) -> Result<Vec<String>, String> {
        let path = format!("/3.1/offers/{}/privacy", url_segment(affise_offer_id));
        let json = self.get(&path, &[]).await?;
        let list = ["partners", "affiliates"]
            .iter()
            .find_map(|k| json.get(*k).and_then(Value::as_array))
            .ok_or_else(|| format!("GET {path}: the answer has no \"partners\" list"))?;
        list.iter()
            .map(|p| match p {
                Value::Object(_) => id_text(p.get("id").unwrap_or(&Value::Null), "id"),
                other => id_text(other, "partner"),
            })
            .map(|r| r.map_err(|e| format!("GET {path}: {e}")))
            .collect()
    }

    /// Enables (`enable`) or disables an affiliate on an offer, without Affise's own email.
    pub async fn set_affiliate_access(&self, enable: bool, affise_offer_id: &str, partner: &str) -> Result<(), String> {
        let offer: i64 = affise_offer_id
            .parse()
            .map_err(|_| format!("the offer's Affise id {affise_offer_id:?} is not a number"))?;
        let path = if enable { "/3.0/offer/enable-affiliate" } else { "/3.0/offer/disable-affiliate" };
        self.post(path, &[("offer_id[]", offer.to_string()), ("pid", partner.to_string()), ("notice", "0".into())])
            .await
            .map(|_| ())
    }
}

fn url_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// An id as text: Affise writes partner and offer ids as integers, user ids as strings.
fn id_text(v: &Value, field: &str) -> Result<String, String> {
    match v {
        Value::Number(n) if n.as_i64().is_some_and(|n| n > 0) => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() && s.len() <= 64 => Ok(s.trim().to_string()),
        Value::Null => Err(format!("\"{field}\" is missing")),
        other => Err(format!("\"{field}\" is not an id: {other}")),
    }
}

fn text<'a>(v: &'a Value, field: &str) -> Result<&'a str, String> {
    match v.get(field) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Ok(""),
        Some(other) => Err(format!("\"{field}\" is not text: {other}")),
    }
}

fn parse_partner(v: &Value) -> Result<PartnerRecord, String> {
    let affise_id = id_text(v.get("id").unwrap_or(&Value::Null), "id")?;
    let email = text(v, "email")?.to_string();
    let status_word = text(v, "status")?;
    let status = partner_status_from_affise(status_word)
        .ok_or_else(|| format!("partner {affise_id}: unknown status {status_word:?}"))?;
    let manager = match (v.get("manager"), v.get("manager_id")) {
        (Some(Value::Object(m)), _) => Some(id_text(m.get("id").unwrap_or(&Value::Null), "manager.id")?),
        (Some(m @ Value::String(_)), _) | (_, Some(m @ Value::String(_))) => Some(id_text(m, "manager")?),
        _ => None,
    };
    Ok(PartnerRecord {
        email,
        login: text(v, "login")?.to_string(),
        name: text(v, "name")?.to_string(),
        status,
        manager: manager.map(ManagerKey::AffiseId),
        affise_id,
    })
}

fn parse_user(v: &Value) -> Result<Option<ManagerRecord>, String> {
    let affise_id = id_text(v.get("id").unwrap_or(&Value::Null), "id")?;
    let roles: Vec<&str> = v
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !roles.contains(&"ROLE_MANAGER_AFFILIATE") {
        return Ok(None);
    }
    let name = format!("{} {}", text(v, "first_name")?, text(v, "last_name")?).trim().to_string();
    Ok(Some(ManagerRecord { affise_id, email: text(v, "email")?.to_string(), name }))
}

/// Money as Affise writes it (a number or a numeric string) in cents.
fn cents(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (n.is_finite() && n.abs() < 1e12).then(|| (n * 100.0).round() as i64)
}

fn parse_offer(v: &Value) -> Result<OfferRecord, String> {
    let affise_id = id_text(v.get("id").unwrap_or(&Value::Null), "id")?;
    let status_word = text(v, "status")?;
    let status = offer_status_from_affise(status_word)
        .ok_or_else(|| format!("offer {affise_id}: unknown status {status_word:?}"))?;
    let privacy_word = text(v, "privacy")?;
    let privacy = privacy_from_affise(privacy_word)
        .ok_or_else(|| format!("offer {affise_id}: unknown privacy {privacy_word:?}"))?;
    let payment = v.get("payments").and_then(Value::as_array).and_then(|p| p.first());
    let payout = payment.and_then(|p| p.get("payouts").or_else(|| p.get("payout"))).and_then(cents).unwrap_or(0);
    let currency = payment.and_then(|p| p.get("currency")).and_then(Value::as_str).unwrap_or("USD").to_uppercase();
    Ok(OfferRecord {
        title: text(v, "title")?.to_string(),
        status,
        privacy,
        payout,
        currency,
        preview_url: text(v, "preview_url")?.to_string(),
        affise_id,
    })
}

fn parse_smartlink(v: &Value) -> Result<SmartlinkRecord, String> {
    let affise_id = id_text(v.get("id").unwrap_or(&Value::Null), "id")?;
    let name = match text(v, "name")? {
        "" => text(v, "title")?,
        n => n,
    };
    Ok(SmartlinkRecord { affise_id, name: name.to_string(), privacy: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partners_read_as_affise_writes_them() {
        let p = parse_partner(&json!({"id": 17, "email": "a@b.co", "login": "ab", "name": "A B",
            "status": "not active", "manager": {"id": "5a0c0a5b3b7d9b0012345678"}}))
        .unwrap();
        assert_eq!(p.affise_id, "17");
        assert_eq!(p.status, crate::domain::states::AffiliateStatus::NotActive);
        assert_eq!(p.manager, Some(ManagerKey::AffiseId("5a0c0a5b3b7d9b0012345678".into())));
        assert!(parse_partner(&json!({"id": 1, "email": "a@b.co", "status": "sleeping"})).is_err());
        assert!(parse_partner(&json!({"email": "a@b.co", "status": "active"})).is_err());
    }

    #[test]
    fn offers_take_privacy_and_payout_in_affise_words() {
        let o = parse_offer(&json!({"id": 9, "offer_id": "9", "title": "T", "status": "suspended",
            "privacy": "protected", "payments": [{"payouts": "2.5", "currency": "eur"}]}))
        .unwrap();
        assert_eq!(o.privacy, crate::domain::states::Privacy::Premoderated);
        assert_eq!(o.status, crate::domain::states::OfferStatus::Paused);
        assert_eq!((o.payout, o.currency.as_str()), (250, "EUR"));
    }
}
