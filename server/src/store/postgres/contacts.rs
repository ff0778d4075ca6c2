//! [`Contacts`] on PostgreSQL: the `contacts` table (migration 4).

use super::super::StoreResult;
use super::super::contacts::{Contact, Contacts};
use super::PgStore;

impl Contacts for PgStore {
    fn contact(&self, user_id: i64) -> StoreResult<Contact> {
        self.pool.run(move |c| {
            let row = c.query_opt(
                "SELECT mail, lang FROM contacts WHERE user_id = $1",
                &[&user_id],
            )?;
            Ok(match row {
                Some(row) => Contact {
                    mail: row.try_get(0)?,
                    lang: row.try_get(1)?,
                },
                None => Contact::default(),
            })
        })
    }

    fn set_mail(&self, user_id: i64, mail: Option<&str>) -> StoreResult<()> {
        let mail = mail.map(str::to_owned);
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO contacts (user_id, mail) VALUES ($1, $2)
                 ON CONFLICT (user_id) DO UPDATE SET mail = excluded.mail",
                &[&user_id, &mail],
            )?;
            Ok(())
        })
    }

    fn set_lang(&self, user_id: i64, lang: &str) -> StoreResult<()> {
        let lang = lang.to_owned();
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO contacts (user_id, lang) VALUES ($1, $2)
                 ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang",
                &[&user_id, &lang],
            )?;
            Ok(())
        })
    }
}
