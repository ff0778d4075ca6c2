//! [`Contacts`] on SQLite: the `contacts` table (migration 9).

use rusqlite::{OptionalExtension, params};

use super::super::StoreResult;
use super::super::connection::Cached;
use super::super::contacts::{Contact, Contacts};
use super::SqliteStore;

impl Contacts for SqliteStore {
    fn contact(&self, user_id: i64) -> StoreResult<Contact> {
        Ok(self
            .db()
            .row(
                "SELECT mail, lang FROM contacts WHERE user_id = ?1",
                [user_id],
                |r| {
                    Ok(Contact {
                        mail: r.get(0)?,
                        lang: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    fn set_mail(&self, user_id: i64, mail: Option<&str>) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO contacts (user_id, mail) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET mail = excluded.mail",
            params![user_id, mail],
        )?;
        Ok(())
    }

    fn set_lang(&self, user_id: i64, lang: &str) -> StoreResult<()> {
        self.db().run(
            "INSERT INTO contacts (user_id, lang) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang",
            params![user_id, lang],
        )?;
        Ok(())
    }
}
