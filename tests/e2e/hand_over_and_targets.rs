//! The team's day in the browser: a ticket handed to a colleague from its thread;
//! Send and wait, the affiliate's reply opening it again; the affiliate beside the
//! thread; a breach showing in the list; the Reports page.

use crate::browser::Browser;
use crate::server::Server;
use crate::{AFFILIATE, MANAGER};

const COLLEAGUE: &str = "manager2@affdesk.test";

/// An open technical ticket of affiliate 1 (the manager's), by the list.
async fn an_open_ticket(b: &Browser) -> i64 {
    b.goto("/admin/tickets?status=open&affiliate_id=1").await;
    b.wait_idle().await;
    let id = b.run_script("return document.querySelector('#results tbody tr').id;").await;
    id.as_str().unwrap().trim_start_matches("ticket-").parse().unwrap()
}

/// Journey: hand a ticket over from its thread; the colleague has it, with the note.
pub async fn hand_over_from_the_thread(b: &Browser, server: &Server) {
    b.log_in("admin", MANAGER).await;
    let ticket = an_open_ticket(b).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    b.click("#ticket-facts a[href$='/assign']").await;
    b.wait_location("the hand-over form", |l| l.ends_with("/assign")).await;
    let colleague: i64 = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = server.db();
        diesel::sql_query(format!("SELECT id AS n FROM users WHERE email = '{COLLEAGUE}'"))
            .get_result::<N>(&mut *conn)
            .unwrap()
            .n
    };
    b.select("#assign-to", &colleague.to_string()).await;
    b.click("form button.primary").await;
    b.wait_location("back to the list", |l| l.starts_with("/admin/tickets") && !l.contains(&ticket.to_string())).await;
    b.wait_text("#flash", &format!("Ticket #{ticket} handed to")).await;
    b.log_in("admin", COLLEAGUE).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    b.wait_text(".thread", "Handed to").await;
    b.assert_clean_console("hand-over from the thread").await;
}

/// Journey: Send and wait takes the ticket out of the open queue; the affiliate's
/// reply brings it back.
pub async fn send_and_wait_then_the_reply(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    let ticket = an_open_ticket(b).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    b.fill("#reply-body", "Could you send the postback log?").await;
    b.click("#reply button[name=then][value=wait]").await;
    b.wait_text("#ticket-facts", "Waiting on the affiliate").await;
    b.log_in("affiliate", AFFILIATE).await;
    b.goto(&format!("/affiliate/tickets/{ticket}")).await;
    b.wait_text("#ticket-facts", "Waiting for your reply").await;
    b.fill("#reply-body", "Here it is: all 200s.").await;
    b.click("#reply button[data-send]").await;
    b.wait_text(".thread", "Here it is: all 200s.").await;
    b.log_in("admin", MANAGER).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    b.wait_text("#ticket-facts", "Opened").await;
    b.assert_clean_console("send and wait").await;
}

/// The affiliate beside the thread, loaded after it; a late ticket marked in the
/// list; the Reports page with its chart.
pub async fn side_panel_breach_and_reports(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    let ticket = an_open_ticket(b).await;
    b.resize(1366, 768).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    // (The panel's headings are set in capitals: the elements are waited for.)
    b.wait_for("#affiliate-side #side-open").await;
    b.wait_for("#affiliate-side table.side-stats").await;
    b.wait_text("#affiliate-side", "Tom Media").await;
    let beside = b
        .run_script(
            "const a = document.getElementById('affiliate-side').getBoundingClientRect();
             const m = document.getElementById('conversation').getBoundingClientRect();
             return a.left >= m.right - 1 && a.top < m.bottom;",
        )
        .await;
    assert_eq!(beside, serde_json::json!(true), "beside the thread on a laptop");
    b.goto("/admin/tickets?sort=waiting").await;
    b.wait_for("#results .sla").await;
    b.goto("/admin/reports").await;
    b.wait_for("#rep-team").await;
    b.wait_for("svg polyline").await;
    b.assert_clean_console("side panel, breach and reports").await;
}
