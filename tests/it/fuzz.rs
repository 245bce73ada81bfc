//! A fuzz harness for the multipart reader and the attachment checks, on stable Rust:
//! proptest makes hostile multipart bodies (any boundary, names, file names with
//! control characters, contents that start like images and are not, bodies cut
//! anywhere) and sends them to the real server, through the API and a panel. Never
//! a 5xx, and the attachment rows and the files on disk always agree.
//!
//! `FUZZ_CASES=5000 cargo test --test it fuzz` runs it longer than CI does.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use crate::db_test;
use crate::desk::Find;
use crate::harness::TestApp;
use crate::support::*;

#[derive(Clone, Debug)]
struct Part {
    name: String,
    file_name: Option<String>,
    content: Vec<u8>,
}

fn part() -> impl Strategy<Value = Part> {
    let name = prop_oneof![
        Just("files".to_string()),
        Just("files[]".to_string()),
        Just("text".to_string()),
        Just("body".to_string()),
        Just("internal".to_string()),
        "[a-z\\[\\]\"]{0,12}",
    ];
    let file_name = proptest::option::of(prop_oneof![
        Just("shot.png".to_string()),
        Just("a.zip".to_string()),
        "[a-zA-Z0-9./\\\\\u{202E}\u{0001}-\u{001f}]{0,40}\\.(png|gif|jpg|zip|exe|svg)",
        ".{0,30}",
    ]);
    let content = prop_oneof![
        Just(PNG.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|mut v| {
            let mut head = b"GIF89a".to_vec();
            head.append(&mut v);
            head
        }),
        Just(b"<svg onload=alert(1)>".to_vec()),
    ];
    (name, file_name, content).prop_map(|(name, file_name, content)| Part { name, file_name, content })
}

/// A body, its boundary, and where (if anywhere) to cut it.
fn body() -> impl Strategy<Value = (String, Vec<Part>, Option<usize>)> {
    ("[a-zA-Z0-9'()+_,-./:=?]{1,70}", proptest::collection::vec(part(), 0..9), proptest::option::of(0usize..4000))
}

fn encode(boundary: &str, parts: &[Part], cut: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"", p.name).as_bytes(),
        );
        if let Some(f) = &p.file_name {
            out.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(&p.content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    if let Some(at) = cut {
        out.truncate(at.min(out.len()));
    }
    out
}

/// Attachment rows and stored files agree, and no temporary is left.
fn store_agrees(app: &TestApp) {
    let root = app.data_dir.join("attachments");
    let mut files = 0;
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        if dir.file_name() == "tmp" {
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a temporary file was left behind");
        } else if dir.path().is_dir() {
            files += std::fs::read_dir(dir.path()).unwrap().count() as i64;
        }
    }
    assert_eq!(files, app.count("attachments"), "every row has its file and every file its row");
}

db_test!(hostile_multipart_bodies_never_break_the_reader, |app| {
    app.seed_demo();
    let mut conn = app.conn();
    let user = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
    let key = affdesk::domain::users::User::issue_api_key(&mut conn, user.id).unwrap();
    drop(conn);
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48);
    let mut runner = TestRunner::new(ProptestConfig { cases, failure_persistence: None, ..Default::default() });
    // Generated first, sent after: the runner's closure is not async.
    let bodies = std::cell::RefCell::new(Vec::new());
    runner
        .run(&body(), |b| {
            bodies.borrow_mut().push(b);
            Ok(())
        })
        .unwrap();
    let bodies = bodies.into_inner();
    for (i, (boundary, parts, cut)) in bodies.into_iter().enumerate() {
        let bytes = encode(&boundary, &parts, cut);
        let content_type = format!("multipart/form-data; boundary=\"{boundary}\"");
        let api = reqwest::Client::new()
            .post(app.url(&format!("/3.0/admin/ticket/{ticket}/comment")))
            .header("API-Key", &key)
            .header("Content-Type", &content_type)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        let status = api.status().as_u16();
        assert!(status < 500, "case {i}: the API answered {status} to {parts:?} cut at {cut:?}");
        // The panel form, with its token first as a browser sends it.
        let mut with_token = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n",
            affiliate.csrf
        )
        .into_bytes();
        with_token.extend_from_slice(&bytes);
        let panel = affiliate
            .http
            .post(app.url(&format!("/affiliate/tickets/{ticket}/messages")))
            .header("Content-Type", &content_type)
            .body(with_token)
            .send()
            .await
            .unwrap();
        let status = panel.status().as_u16();
        assert!(status < 500, "case {i}: the panel answered {status} to {parts:?} cut at {cut:?}");
        store_agrees(&app);
    }
});
