public import SwansibleData

/// `--tags` / `--skip-tags`, with ansible-core's rules.
///
/// A task's effective tags are its own `tags` plus those of every enclosing block, implicit block (a role,
/// an `import_tasks`, an `import_role`), role dependency and the play. `include_tasks`/`include_role` tags
/// belong to the include task only; the included tasks get them only through `apply: {tags: …}`.
public enum TagSelection {
    /// ansible's Taggable.evaluate_tags: whether a task with `taskTags` runs under `only` (`--tags`;
    /// empty means ansible's default `all`) and `skip` (`--skip-tags`).
    ///
    /// - `always` runs unless skipped by name (`--skip-tags always`) or by `--skip-tags all` … which
    ///   spares `always` unless `always` is skipped too;
    /// - `never` runs only when asked by name (or through `always`);
    /// - `tagged` / `untagged` select tasks with or without tags; `all` is every task but `never` ones.
    public static func shouldRun(taskTags: Set<String>, only: [String], skip: [String]) -> Bool {
        let untagged: Set<String> = ["untagged"]
        let tags = taskTags.isEmpty ? untagged : taskTags
        // ansible's default for --tags is `all` (which leaves out `never`).
        let only = Set(only.isEmpty ? ["all"] : only)
        let skip = Set(skip)
        var run = true
        if !only.isEmpty {
            if tags.contains("always") {
                run = true
            } else if only.contains("all") && !tags.contains("never") {
                run = true
            } else if !tags.isDisjoint(with: only) {
                run = true
            } else if only.contains("tagged") && tags != untagged && !tags.contains("never") {
                run = true
            } else {
                run = false
            }
        }
        if run && !skip.isEmpty {
            if skip.contains("all") {
                if !tags.contains("always") || skip.contains("always") { run = false }
            } else if !tags.isDisjoint(with: skip) {
                run = false
            } else if skip.contains("tagged") && tags != untagged {
                run = false
            }
        }
        return run
    }

    /// The tags a `tags:` value names: a list (nested lists flattened, numbers as text) or a comma
    /// separated string.
    public static func tags(_ value: Value?) -> [String] {
        guard let value else { return [] }
        switch value {
        case .null: return []
        case .string(let s), .unsafe(let s):
            return s.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingSpaces()
            }
        case .list(let items):
            return items.flatMap { item -> [String] in
                if case .list = item { return tags(item) }
                return [tagText(item)]
            }
        default:
            return [tagText(value)]
        }
    }

    private static func tagText(_ v: Value) -> String {
        switch v {
        case .string(let s), .unsafe(let s): return s
        case .int(let i): return String(i)
        default: return v.json()
        }
    }

    /// The effective tags of `task` inside `enclosing` (outermost first) of `play`.
    public static func effectiveTags(task: PlayTask, enclosing: [Block], play: Play) -> Set<String> {
        var result = Set(tags(task.keywords["tags"]))
        for block in enclosing { result.formUnion(tags(block.keywords["tags"])) }
        result.formUnion(tags(play.keywords["tags"]))
        return result
    }

    /// Every task of `nodes` with its effective tags, in order, walking blocks (their `block`, `rescue`
    /// and `always` lists when `includeRescue`, else only `block` as `--list-tasks` does).
    public static func walk(
        _ nodes: [TaskNode], play: Play, includeRescue: Bool = true, enclosing: [Block] = [],
        _ visit: (PlayTask, Set<String>) -> Void
    ) {
        for node in nodes {
            switch node {
            case .task(let t):
                visit(t, effectiveTags(task: t, enclosing: enclosing, play: play))
            case .block(let b):
                let inner = enclosing + [b]
                walk(b.block, play: play, includeRescue: includeRescue, enclosing: inner, visit)
                if includeRescue {
                    walk(b.rescue, play: play, includeRescue: includeRescue, enclosing: inner, visit)
                    walk(b.always, play: play, includeRescue: includeRescue, enclosing: inner, visit)
                }
            }
        }
    }
}

extension PlayTask {
    /// The task's effective tags as the executor sees it: its own, those of the blocks around it
    /// (``inherited``, filled by the executor's cursor) and the play's.
    public var effectiveTags: Set<String> {
        var result = Set(TagSelection.tags(keywords["tags"]))
        for level in inherited { result.formUnion(TagSelection.tags(level["tags"])) }
        return result
    }
}
