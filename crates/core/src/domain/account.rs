//! One account, by kind and id: a user of the admin panel or an affiliate. The
//! session says whose it is, an email is sent to one, a login names one.

use super::states::AccountKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    User(i64),
    Affiliate(i64),
}

impl Account {
    pub fn kind(self) -> AccountKind {
        match self {
            Account::User(_) => AccountKind::User,
            Account::Affiliate(_) => AccountKind::Affiliate,
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Account::User(id) | Account::Affiliate(id) => id,
        }
    }

    /// The account as one word, `user:3` or `affiliate:7` (a session keeps it so).
    pub fn key(self) -> String {
        format!("{}:{}", self.kind(), self.id())
    }

    pub fn from_key(key: &str) -> Option<Account> {
        let (kind, id) = key.split_once(':')?;
        let id = id.parse().ok()?;
        match AccountKind::parse(kind)? {
            AccountKind::User => Some(Account::User(id)),
            AccountKind::Affiliate => Some(Account::Affiliate(id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back() {
        for a in [Account::User(3), Account::Affiliate(7)] {
            assert_eq!(Account::from_key(&a.key()), Some(a));
        }
        assert_eq!(Account::User(3).key(), "user:3");
        for bad in ["", "user", "user:x", "admin:1", ":1", "affiliate:"] {
            assert_eq!(Account::from_key(bad), None, "{bad}");
        }
    }
}
