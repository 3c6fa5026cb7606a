/// Jinja2's compile-time check: a filter or test that does not exist is a syntax error, unless it sits inside an
/// `if` statement or an inline `if` (then it fails only when called).
enum Checker {
    /// The plugin's short name: `ansible.builtin.x` is `x`; `ansible.legacy.x` is `x` only for plugins ansible-core
    /// registers itself (not for Jinja2's own filters and tests, which that collection does not contain).
    static func canonical(_ name: String, isFilter: Bool = true) -> String {
        if name.hasPrefix("ansible.builtin.") { return String(name.dropFirst("ansible.builtin.".count)) }
        if name.hasPrefix("ansible.legacy.") {
            let short = String(name.dropFirst("ansible.legacy.".count))
            return (isFilter ? jinjaOnlyFilters : jinjaOnlyTests).contains(short) ? name : short
        }
        return name
    }

    static let jinjaOnlyFilters: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "dictsort", "e", "escape", "filesizeformat", "first",
        "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "max",
        "min", "pprint", "replace", "reverse", "round", "safe", "slice", "sort", "string", "striptags", "sum",
        "title", "tojson", "trim", "truncate", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
    ]
    static let jinjaOnlyTests: Set<String> = [
        "!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "divisibleby", "eq", "equalto", "escaped", "even",
        "false", "filter", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower",
        "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "upper",
    ]

    static func check(_ body: [Stmt], soft: Bool = false) throws(SyntaxError) {
        for s in body { try check(s, soft: soft) }
    }

    static func check(_ s: Stmt, soft: Bool) throws(SyntaxError) {
        switch s {
        case .output(let parts):
            for case .expr(let e) in parts { try check(e, soft: soft) }
        case .ifs(let branches, let otherwise):
            // Jinja2 compiles an `if` statement in a "soft" frame.
            for (test, body) in branches {
                try check(test, soft: true)
                try check(body, soft: true)
            }
            try check(otherwise, soft: true)
        case .forLoop(let loop):
            // The loop body is a new frame, never soft.
            try check(loop.iter, soft: soft)
            if let f = loop.filter { try check(f) }
            try check(loop.body)
            try check(loop.otherwise)
        case .assign(_, let e): try check(e, soft: soft)
        case .assignBlock(_, let filters, let body):
            try check(body, soft: soft)
            for f in filters { try checkCall(f, isFilter: true, soft: soft) }
        case .filterBlock(let filters, let body):
            for f in filters { try checkCall(f, isFilter: true, soft: soft) }
            try check(body, soft: soft)
        case .with(let pairs, let body):
            for (_, e) in pairs { try check(e, soft: soft) }
            try check(body)
        case .macro(let m):
            for d in m.defaults { try check(d, soft: soft) }
            try check(m.body)
        case .callBlock(let call, _, let defaults, let body):
            try check(call, soft: soft)
            for d in defaults { try check(d, soft: soft) }
            try check(body)
        case .include(let e, _, _), .importAll(let e, _, _), .fromImport(let e, _, _, _): try check(e, soft: soft)
        }
    }

    static func checkCall(_ call: PluginCall, isFilter: Bool, soft: Bool) throws(SyntaxError) {
        for a in call.args.args { try check(a, soft: soft) }
        for (_, a) in call.args.kwargs { try check(a, soft: soft) }
        if let d = call.args.dynArgs { try check(d, soft: soft) }
        if let d = call.args.dynKwargs { try check(d, soft: soft) }
        if soft { return }
        let name = canonical(call.name, isFilter: isFilter)
        let known = isFilter ? Filters.table[name] != nil : JinjaTests.table[name] != nil
        if !known {
            throw SyntaxError(message: "No \(isFilter ? "filter" : "test") named '\(call.name)'.", line: 0)
        }
    }

    static func check(_ e: Expr, soft: Bool = false) throws(SyntaxError) {
        switch e {
        case .const, .name: return
        case .getattr(let b, _): try check(b, soft: soft)
        case .getitem(let b, let i):
            try check(b, soft: soft)
            try check(i, soft: soft)
        case .slice(let a, let b, let c):
            for x in [a, b, c] { if let x { try check(x, soft: soft) } }
        case .list(let items), .tuple(let items), .concat(let items):
            for i in items { try check(i, soft: soft) }
        case .dict(let pairs):
            for (k, v) in pairs {
                try check(k, soft: soft)
                try check(v, soft: soft)
            }
        case .binary(_, let l, let r), .and(let l, let r), .or(let l, let r):
            try check(l, soft: soft)
            try check(r, soft: soft)
        case .neg(let x), .pos(let x), .not(let x): try check(x, soft: soft)
        case .compare(let first, let ops):
            try check(first, soft: soft)
            for (_, o) in ops { try check(o, soft: soft) }
        case .cond(let t, let a, let b):
            // Conditional expressions are compiled in a soft frame too.
            try check(a, soft: true)
            try check(t, soft: true)
            if let b { try check(b, soft: true) }
        case .filter(let v, let call):
            if let v { try check(v, soft: soft) }
            try checkCall(call, isFilter: true, soft: soft)
        case .test(let v, let call):
            try check(v, soft: soft)
            try checkCall(call, isFilter: false, soft: soft)
        case .call(let callee, let args):
            try check(callee, soft: soft)
            for a in args.args { try check(a, soft: soft) }
            for (_, a) in args.kwargs { try check(a, soft: soft) }
            if let d = args.dynArgs { try check(d, soft: soft) }
            if let d = args.dynKwargs { try check(d, soft: soft) }
        }
    }
}
