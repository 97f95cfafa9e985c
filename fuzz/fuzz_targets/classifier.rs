//! The node classifier's answers, as PE (or anything listening on its port)
//! may send them: `GET /v1/groups` and `GET /v1/groups/<id>` parsed and
//! validated (`parse_groups`, `parse_group`), then everything the opt-out
//! does with valid groups: find PE Infrastructure, read the parameter and
//! its state, find overrides, build and apply deltas, diff the groups (with
//! secrets masked), list pinned nodes. No input may panic, and a group that
//! passes validation must survive every step (the shapes the issue found,
//! `"classes":{"puppet_enterprise":null}` and `"classes":[]`, once did not).
#![no_main]

mod altstack;

use libfuzzer_sys::fuzz_target;
use pe_analytics::pe::classifier::{
    apply_delta, delta, find_pe_infrastructure, key_diff, overrides, param, parse_group,
    parse_groups, pinned, serial, state_of, Goal, CLASS,
};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    altstack::install();
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = parse_group(body.clone());
    let Ok(groups) = parse_groups(body) else {
        return;
    };
    let goals = [
        Goal::OptOut,
        Goal::OptIn { explicit: false },
        Goal::OptIn { explicit: true },
    ];
    for goal in goals {
        for o in overrides(&groups, goal) {
            let g = groups
                .iter()
                .find(|g| g.get("id").and_then(Value::as_str) == Some(o.group_id.as_str()))
                .expect("an override comes from a listed group");
            let d = delta(&o.section, &o.class, None, serial(g));
            let after = apply_delta(g, &d);
            assert!(param(&after, &o.section, &o.class).is_none());
            let _ = key_diff(g, &after);
        }
    }
    for g in &groups {
        let _ = pinned(g);
        let current = param(g, "classes", CLASS);
        let _ = state_of(current);
        for goal in goals {
            let _ = goal.needs_change(current);
            let d = delta("classes", CLASS, goal.wanted(), serial(g));
            let after = apply_delta(g, &d);
            // The delta lands exactly: the parameter holds the wanted value.
            assert_eq!(param(&after, "classes", CLASS), goal.wanted().as_ref());
            let _ = key_diff(g, &after);
        }
    }
    if let Ok(infra) = find_pe_infrastructure(&groups) {
        let _ = param(infra, "classes", CLASS);
    }
});
