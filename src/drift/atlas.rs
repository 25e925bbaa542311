//! The atlas: the drift reports of every consecutive pair of builds on one page, for an
//! operator planning an upgrade (`upgrade-harness diff --all`; committed as
//! `snapshots/atlas/local.md`). A summary table first, then each pair's report with its
//! headings one level down; every undocumented change is marked as in the reports.

use super::Drift;

/// The atlas as Markdown.
pub fn markdown(title: &str, reports: &[Drift]) -> String {
    let mut s = format!("# {title}\n\n");
    s.push_str(
        "Each consecutive pair of builds: one cluster per version (one master, one agent, one \
         task), observed at `start` on the real binaries, compared like with like, and the \
         public protobuf API each build's libmesos carries (its `.proto` descriptors). Every \
         change is checked against the upgrade notes (`notes/upgrade-notes.yaml`) and marked \
         documented (with the note) or **undocumented**; families of names are folded \
         (`a/{b,c}`). There are no upgrade notes for 1.11.\n\n",
    );
    s.push_str(
        "| from -> to | changes | documented | undocumented | protobuf changes | documented | undocumented | notes observed | notes not observed |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for d in reports {
        let count = |changes: Vec<(&str, &super::Change)>| {
            let documented = changes
                .iter()
                .filter(|(_, c)| c.documented.is_some())
                .count();
            format!(
                "{} | {documented} | {}",
                changes.len(),
                changes.len() - documented
            )
        };
        let nodes = count(d.nodes.iter().flat_map(|n| n.all()).collect());
        let protobuf = match &d.protobuf {
            Some(p) => count(p.all().collect()),
            None => "- | - | -".to_string(),
        };
        let observed = d.notes.iter().filter(|n| n.observed).count();
        s.push_str(&format!(
            "| [{}](#{}) | {nodes} | {protobuf} | {observed} | {} |\n",
            pair(d),
            anchor(d),
            d.notes.len() - observed
        ));
    }
    for d in reports {
        s.push_str(&format!("\n## {}\n\n", pair(d)));
        // The report without its title and first paragraph, its headings one level down.
        let body = d.markdown();
        let body = body.split_once("\n## ").map(|(_, b)| b).unwrap_or_default();
        for line in format!("## {body}").lines().skip(2) {
            if line.starts_with('#') {
                s.push('#');
            }
            s.push_str(line);
            s.push('\n');
        }
    }
    s
}

/// The atlas as a standalone HTML page (pulldown-cmark escapes the text).
pub fn html(title: &str, markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    // Headings get ids so that the summary's links work.
    for line in markdown.lines().filter(|l| l.starts_with("## ")) {
        let text = line[3..]
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let id = slug(&line[3..]);
        body = body.replacen(
            &format!("<h2>{text}</h2>"),
            &format!("<h2 id=\"{id}\">{text}</h2>"),
            1,
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

const STYLE: &str = "body { font-family: sans-serif; margin: 2em; max-width: 70em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
strong { color: #a00; }
";

fn pair(d: &Drift) -> String {
    match (d.from_version, d.to_version) {
        (Some(a), Some(b)) => format!("{a} -> {b}"),
        _ => d.scenario.clone(),
    }
}

/// The anchor GitHub and the HTML page give the heading `## 1.4.3 -> 1.5.2`.
fn anchor(d: &Drift) -> String {
    slug(&pair(d))
}

fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}
