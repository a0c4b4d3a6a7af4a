use crate::harness::run;

#[test]
fn help_lists_every_subcommand() {
    let r = run(["--help"]);
    r.assert_code(0);
    for sub in [
        "audit",
        "flows",
        "dns",
        "topology",
        "pull",
        "completions",
        "man",
    ] {
        assert!(r.stdout.contains(sub), "--help lacks {sub}:\n{}", r.stdout);
    }
}

#[test]
fn usage_error_exits_2() {
    run(["no-such-subcommand"]).assert_code(2);
}

#[test]
fn completions_for_bash_mention_the_binary() {
    let r = run(["completions", "bash"]);
    r.assert_code(0);
    assert!(r.stdout.contains("_privpath"));
}
