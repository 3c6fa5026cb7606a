/// A recursive-descent parser with Jinja2's grammar and error messages.
///
/// Nesting is bounded (``Parser/maxDepth``) so that no input can exhaust the stack.
struct Parser {
    static let maxDepth = 200

    private var tokens: [Token]
    private var index = 0
    private var depth = 0
    private var tagStack: [String] = []
    private var endTokenStack: [[String]] = []

    private init(tokens: [Token]) { self.tokens = tokens }

    /// Parses a template into statements.
    static func parse(template tokens: [Token]) throws(SyntaxError) -> [Stmt] {
        var p = Parser(tokens: tokens)
        return try p.subparse(endTokens: nil)
    }

    /// Parses a bare expression (`compile_expression`).
    static func parse(expression tokens: [Token]) throws(SyntaxError) -> Expr {
        var p = Parser(tokens: tokens)
        let e = try p.parseExpression()
        guard case .eof = p.current.kind else { throw p.fail("chunk after expression") }
        return e
    }

    // MARK: token stream

    private var current: Token { tokens[index] }
    private func look() -> Token { index + 1 < tokens.count ? tokens[index + 1] : tokens[tokens.count - 1] }

    @discardableResult
    private mutating func next() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private func fail(_ message: String, line: Int? = nil) -> SyntaxError {
        SyntaxError(message: message, line: line ?? current.line)
    }

    private mutating func skipOp(_ o: Op) -> Bool {
        if current.isOp(o) {
            next()
            return true
        }
        return false
    }

    private mutating func skipName(_ n: String) -> Bool {
        if current.isName(n) {
            next()
            return true
        }
        return false
    }

    private static func describe(_ expr: String) -> String {
        switch expr {
        case "variable_end": return "end of print statement"
        case "block_end": return "end of statement block"
        case "name": return "name"
        default:
            if expr.hasPrefix("name:") { return String(expr.dropFirst(5)) }
            return expr
        }
    }

    private func unexpected(_ expected: String) -> SyntaxError {
        if case .eof = current.kind {
            return fail("unexpected end of template, expected '\(expected)'.")
        }
        return fail("expected token '\(expected)', got '\(current.description)'")
    }

    private mutating func expectOp(_ o: Op) throws(SyntaxError) {
        guard current.isOp(o) else { throw unexpected(o.rawValue) }
        next()
    }

    private mutating func expectName() throws(SyntaxError) -> String {
        guard case .name(let n) = current.kind else { throw unexpected("name") }
        next()
        return n
    }

    private mutating func expectName(_ n: String) throws(SyntaxError) {
        guard current.isName(n) else { throw unexpected(n) }
        next()
    }

    private mutating func expectBlockEnd() throws(SyntaxError) {
        guard case .blockEnd = current.kind else { throw unexpected("end of statement block") }
        next()
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        if depth > Parser.maxDepth { throw SyntaxError(message: Parser.tooDeep, line: current.line) }
    }

    static let tooDeep = "maximum recursion depth exceeded"

    // MARK: statements

    private func testAny(_ endTokens: [String]) -> Bool {
        for e in endTokens {
            if e.hasPrefix("name:"), current.isName(String(e.dropFirst(5))) { return true }
        }
        return false
    }

    private mutating func subparse(endTokens: [String]?) throws(SyntaxError) -> [Stmt] {
        var body: [Stmt] = []
        var buffer: [OutputPart] = []
        if let endTokens { endTokenStack.append(endTokens) }
        defer { if endTokens != nil { endTokenStack.removeLast() } }
        func flush() {
            if !buffer.isEmpty {
                body.append(.output(buffer))
                buffer.removeAll()
            }
        }
        while true {
            switch current.kind {
            case .data(let text):
                buffer.append(.data(text))
                next()
            case .variableBegin:
                next()
                buffer.append(.expr(try parseTuple()))
                guard case .variableEnd = current.kind else { throw unexpected("end of print statement") }
                next()
            case .blockBegin:
                flush()
                next()
                if let endTokens, testAny(endTokens) { return body }
                body.append(contentsOf: try parseStatement())
                try expectBlockEnd()
            case .eof:
                flush()
                return body
            default:
                throw fail("unexpected '\(current.description)'")
            }
        }
    }

    private mutating func parseStatement() throws(SyntaxError) -> [Stmt] {
        try enter()
        defer { depth -= 1 }
        guard case .name(let tag) = current.kind else { throw fail("tag name expected") }
        tagStack.append(tag)
        defer { tagStack.removeLast() }
        switch tag {
        case "if": return [try parseIf()]
        case "for": return [try parseFor()]
        case "set": return [try parseSet()]
        case "macro": return [try parseMacro()]
        case "call": return [try parseCallBlock()]
        case "filter": return [try parseFilterBlock()]
        case "with": return [try parseWith()]
        case "include": return [try parseInclude()]
        case "import":
            next()
            let template = try parseExpression()
            try expectName("as")
            let name = try parseAssignTargetName()
            return [.importAll(template, as: name, withContext: try parseImportContext(default: false))]
        case "from": return [try parseFrom()]
        case "print":
            next()
            var parts: [OutputPart] = []
            while true {
                if case .blockEnd = current.kind { break }
                if !parts.isEmpty { try expectOp(.comma) }
                parts.append(.expr(try parseExpression()))
            }
            return [.output(parts)]
        default:
            tagStack.removeLast()
            defer { tagStack.append(tag) }
            throw failUnknownTag(tag)
        }
    }

    private func failUnknownTag(_ name: String?) -> SyntaxError {
        var expected = Set<String>()
        for exprs in endTokenStack { for e in exprs { expected.insert(Parser.describe(e)) } }
        let currentlyLooking = endTokenStack.last.map {
            $0.map { "'\(Parser.describe($0))'" }.joined(separator: " or ")
        }
        var message = [name.map { "Encountered unknown tag '\($0)'." } ?? "Unexpected end of template."]
        if let currentlyLooking {
            if let name, expected.contains(name) {
                message.append(
                    "You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for "
                        + "\(currentlyLooking).")
            } else {
                message.append("Jinja was looking for the following tags: \(currentlyLooking).")
            }
        }
        if let innermost = tagStack.last {
            message.append("The innermost block that needs to be closed is '\(innermost)'.")
        }
        return fail(message.joined(separator: " "))
    }

    private mutating func parseStatements(_ endTokens: [String], dropNeedle: Bool = false) throws(SyntaxError)
        -> [Stmt]
    {
        _ = skipOp(.colon)
        try expectBlockEnd()
        let result = try subparse(endTokens: endTokens)
        if case .eof = current.kind {
            endTokenStack.append(endTokens)
            defer { endTokenStack.removeLast() }
            throw failUnknownTag(nil)
        }
        if dropNeedle { next() }
        return result
    }

    private mutating func parseIf() throws(SyntaxError) -> Stmt {
        next()
        var branches: [(Expr, [Stmt])] = []
        var otherwise: [Stmt] = []
        while true {
            let test = try parseTuple(withCondExpr: false)
            let body = try parseStatements(["name:elif", "name:else", "name:endif"])
            branches.append((test, body))
            let token = next()
            if token.isName("elif") { continue }
            if token.isName("else") {
                otherwise = try parseStatements(["name:endif"], dropNeedle: true)
            }
            break
        }
        return .ifs(branches, otherwise: otherwise)
    }

    private mutating func parseFor() throws(SyntaxError) -> Stmt {
        next()
        let target = try parseAssignTarget(extraEndRules: ["name:in"])
        try expectName("in")
        let iter = try parseTuple(withCondExpr: false, extraEndRules: ["name:recursive"])
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression() }
        let recursive = skipName("recursive")
        let body = try parseStatements(["name:endfor", "name:else"])
        var otherwise: [Stmt] = []
        if !next().isName("endfor") {
            otherwise = try parseStatements(["name:endfor"], dropNeedle: true)
        }
        return .forLoop(
            ForLoop(target: target, iter: iter, filter: filter, recursive: recursive, body: body, otherwise: otherwise))
    }

    private mutating func parseSet() throws(SyntaxError) -> Stmt {
        next()
        let target = try parseAssignTarget(withNamespace: true)
        if skipOp(.assign) {
            return .assign(target, try parseTuple())
        }
        let filters = try parseFilterChain(startInline: false)
        let body = try parseStatements(["name:endset"], dropNeedle: true)
        return .assignBlock(target, filters: filters, body: body)
    }

    private mutating func parseSignature() throws(SyntaxError) -> ([String], [Expr]) {
        var params: [String] = []
        var defaults: [Expr] = []
        try expectOp(.lparen)
        while !current.isOp(.rparen) {
            if !params.isEmpty { try expectOp(.comma) }
            let name = try parseAssignTargetName()
            if skipOp(.assign) {
                defaults.append(try parseExpression())
            } else if !defaults.isEmpty {
                throw fail("non-default argument follows default argument")
            }
            params.append(name)
        }
        try expectOp(.rparen)
        return (params, defaults)
    }

    private mutating func parseMacro() throws(SyntaxError) -> Stmt {
        next()
        let name = try parseAssignTargetName()
        let (params, defaults) = try parseSignature()
        let body = try parseStatements(["name:endmacro"], dropNeedle: true)
        return .macro(MacroDef(name: name, params: params, defaults: defaults, body: body))
    }

    private mutating func parseCallBlock() throws(SyntaxError) -> Stmt {
        let line = next().line
        var params: [String] = []
        var defaults: [Expr] = []
        if current.isOp(.lparen) { (params, defaults) = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call else { throw fail("expected call", line: line) }
        let body = try parseStatements(["name:endcall"], dropNeedle: true)
        return .callBlock(call: call, params: params, defaults: defaults, body: body)
    }

    private mutating func parseFilterBlock() throws(SyntaxError) -> Stmt {
        next()
        let filters = try parseFilterChain(startInline: true)
        let body = try parseStatements(["name:endfilter"], dropNeedle: true)
        return .filterBlock(filters, body: body)
    }

    private mutating func parseWith() throws(SyntaxError) -> Stmt {
        next()
        var pairs: [(Target, Expr)] = []
        while true {
            if case .blockEnd = current.kind { break }
            if !pairs.isEmpty { try expectOp(.comma) }
            let target = try parseAssignTarget()
            try expectOp(.assign)
            pairs.append((target, try parseExpression()))
        }
        let body = try parseStatements(["name:endwith"], dropNeedle: true)
        return .with(pairs, body: body)
    }

    private mutating func parseInclude() throws(SyntaxError) -> Stmt {
        next()
        let template = try parseExpression()
        var ignoreMissing = false
        if current.isName("ignore"), look().isName("missing") {
            next()
            next()
            ignoreMissing = true
        }
        var withContext = true
        if current.isName("with") || current.isName("without"), look().isName("context") {
            withContext = next().isName("with")
            next()
        }
        return .include(template, ignoreMissing: ignoreMissing, withContext: withContext)
    }

    private mutating func parseImportContext(default dflt: Bool) throws(SyntaxError) -> Bool {
        if current.isName("with") || current.isName("without"), look().isName("context") {
            let with = next().isName("with")
            next()
            return with
        }
        return dflt
    }

    private mutating func parseFrom() throws(SyntaxError) -> Stmt {
        let line = next().line
        let template = try parseExpression()
        try expectName("import")
        var names: [(String, String)] = []
        var withContext = false
        func atContext() -> Bool {
            (current.isName("with") || current.isName("without")) && look().isName("context")
        }
        while true {
            if !names.isEmpty { try expectOp(.comma) }
            if case .name = current.kind {
                if atContext() {
                    withContext = try parseImportContext(default: false)
                    break
                }
                let name = try parseAssignTargetName()
                if name.hasPrefix("_") { throw fail("names starting with an underline can not be imported") }
                var alias = name
                if skipName("as") { alias = try parseAssignTargetName() }
                names.append((name, alias))
                if atContext() {
                    withContext = try parseImportContext(default: false)
                    break
                }
                if !current.isOp(.comma) { break }
            } else {
                _ = try expectName()
            }
        }
        return .fromImport(template, names: names, withContext: withContext, line: line)
    }

    private mutating func parseAssignTargetName() throws(SyntaxError) -> String {
        let name = try expectName()
        if Parser.constNames.contains(name) { throw fail("can't assign to 'const'") }
        return name
    }

    private static let constNames: Set<String> = ["true", "false", "none", "True", "False", "None"]

    private mutating func parseAssignTarget(extraEndRules: [String]? = nil, withNamespace: Bool = false)
        throws(SyntaxError) -> Target
    {
        var items: [Target] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(.comma) }
            if isTupleEnd(extraEndRules) { break }
            items.append(try parseSimpleTarget(withNamespace: withNamespace))
            if current.isOp(.comma) { isTuple = true } else { break }
        }
        if !isTuple, let only = items.first { return only }
        if items.isEmpty && !isTuple {
            throw fail("Expected an expression, got '\(current.description)'")
        }
        return .tuple(items)
    }

    private mutating func parseSimpleTarget(withNamespace: Bool) throws(SyntaxError) -> Target {
        switch current.kind {
        case .name(let n):
            next()
            if Parser.constNames.contains(n) { throw fail("can't assign to 'const'") }
            if withNamespace, current.isOp(.dot) {
                next()
                return .nsref(n, try expectName())
            }
            return .name(n)
        case .op(.lparen):
            next()
            let t = try parseAssignTarget(withNamespace: withNamespace)
            try expectOp(.rparen)
            return t
        case .string, .integer, .float:
            throw fail("can't assign to 'const'")
        case .op(.lbracket):
            throw fail("can't assign to 'list'")
        case .op(.lbrace):
            throw fail("can't assign to 'dict'")
        default:
            throw fail("unexpected '\(current.description)'")
        }
    }

    // MARK: expressions

    mutating func parseExpression(withCondExpr: Bool = true) throws(SyntaxError) -> Expr {
        withCondExpr ? try parseCondExpr() : try parseOr()
    }

    private mutating func parseCondExpr() throws(SyntaxError) -> Expr {
        try enter()
        defer { depth -= 1 }
        var steps = 0
        defer { depth -= steps }
        var expr1 = try parseOr()
        while skipName("if") {
            try nest(&steps)
            let test = try parseOr()
            var expr3: Expr? = nil
            if skipName("else") { expr3 = try parseCondExpr() }
            expr1 = .cond(test: test, then: expr1, otherwise: expr3)
        }
        return expr1
    }

    /// Counts one more level of nesting built by a loop (left-associative operators); the caller undoes it.
    private mutating func nest(_ steps: inout Int) throws(SyntaxError) {
        steps += 1
        try enter()
    }

    private mutating func parseOr() throws(SyntaxError) -> Expr {
        var steps = 0
        defer { depth -= steps }
        var left = try parseAnd()
        while skipName("or") {
            try nest(&steps)
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(SyntaxError) -> Expr {
        var steps = 0
        defer { depth -= steps }
        var left = try parseNot()
        while skipName("and") {
            try nest(&steps)
            left = .and(left, try parseNot())
        }
        return left
    }

    private mutating func parseNot() throws(SyntaxError) -> Expr {
        if current.isName("not") {
            next()
            try enter()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(SyntaxError) -> Expr {
        let expr = try parseMath1()
        var ops: [(CmpOp, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let c = Parser.compareOps[o] {
                next()
                ops.append((c, try parseMath1()))
            } else if skipName("in") {
                ops.append((.in, try parseMath1()))
            } else if current.isName("not"), look().isName("in") {
                next()
                next()
                ops.append((.notin, try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? expr : .compare(expr, ops)
    }

    private static let compareOps: [Op: CmpOp] = [.eq: .eq, .ne: .ne, .lt: .lt, .lteq: .lteq, .gt: .gt, .gteq: .gteq]

    private mutating func parseMath1() throws(SyntaxError) -> Expr {
        var steps = 0
        defer { depth -= steps }
        var left = try parseConcat()
        while true {
            if current.isOp(.add) {
                next()
                try nest(&steps)
                left = .binary(.add, left, try parseConcat())
            } else if current.isOp(.sub) {
                next()
                try nest(&steps)
                left = .binary(.sub, left, try parseConcat())
            } else {
                return left
            }
        }
    }

    private mutating func parseConcat() throws(SyntaxError) -> Expr {
        var args = [try parseMath2()]
        while skipOp(.tilde) {
            if args.count > 10_000 { throw fail(Parser.tooDeep) }
            args.append(try parseMath2())
        }
        return args.count == 1 ? args[0] : .concat(args)
    }

    private mutating func parseMath2() throws(SyntaxError) -> Expr {
        var steps = 0
        defer { depth -= steps }
        var left = try parsePow()
        while case .op(let o) = current.kind {
            let op: BinOp
            switch o {
            case .mul: op = .mul
            case .div: op = .div
            case .floordiv: op = .floordiv
            case .mod: op = .mod
            default: return left
            }
            next()
            try nest(&steps)
            left = .binary(op, left, try parsePow())
        }
        return left
    }

    private mutating func parsePow() throws(SyntaxError) -> Expr {
        var steps = 0
        defer { depth -= steps }
        var left = try parseUnary()
        while skipOp(.pow) {
            try nest(&steps)
            left = .binary(.pow, left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws(SyntaxError) -> Expr {
        try enter()
        defer { depth -= 1 }
        var node: Expr
        if current.isOp(.sub) {
            next()
            node = .neg(try parseUnary(withFilter: false))
        } else if current.isOp(.add) {
            next()
            node = .pos(try parseUnary(withFilter: false))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws(SyntaxError) -> Expr {
        let token = current
        switch token.kind {
        case .name(let n):
            next()
            switch n {
            case "true", "True": return .const(.bool(true))
            case "false", "False": return .const(.bool(false))
            case "none", "None": return .const(.null)
            default: return .name(n)
            }
        case .string(let s):
            next()
            var buf = s
            while case .string(let more) = current.kind {
                buf += more
                next()
            }
            return .const(.string(buf))
        case .integer(let i):
            next()
            return .const(.int(i))
        case .float(let d):
            next()
            return .const(.float(d))
        case .op(.lparen):
            next()
            try enter()
            defer { depth -= 1 }
            let node = try parseTuple(explicitParentheses: true)
            try expectOp(.rparen)
            return node
        case .op(.lbracket):
            return try parseList()
        case .op(.lbrace):
            return try parseDict()
        default:
            throw fail("unexpected '\(token.description)'")
        }
    }

    private func isTupleEnd(_ extraEndRules: [String]?) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .op(.rparen): return true
        default:
            if let extraEndRules { return testAny(extraEndRules) }
            return false
        }
    }

    private mutating func parseTuple(
        withCondExpr: Bool = true, extraEndRules: [String]? = nil, explicitParentheses: Bool = false
    ) throws(SyntaxError) -> Expr {
        var args: [Expr] = []
        var isTuple = false
        while true {
            if !args.isEmpty { try expectOp(.comma) }
            if isTupleEnd(extraEndRules) { break }
            args.append(try parseExpression(withCondExpr: withCondExpr))
            if current.isOp(.comma) { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = args.first { return only }
            if !explicitParentheses { throw fail("Expected an expression, got '\(current.description)'") }
        }
        return .tuple(args)
    }

    private mutating func parseList() throws(SyntaxError) -> Expr {
        try enter()
        defer { depth -= 1 }
        try expectOp(.lbracket)
        var items: [Expr] = []
        while !current.isOp(.rbracket) {
            if !items.isEmpty { try expectOp(.comma) }
            if current.isOp(.rbracket) { break }
            items.append(try parseExpression())
        }
        try expectOp(.rbracket)
        return .list(items)
    }

    private mutating func parseDict() throws(SyntaxError) -> Expr {
        try enter()
        defer { depth -= 1 }
        try expectOp(.lbrace)
        var items: [(Expr, Expr)] = []
        while !current.isOp(.rbrace) {
            if !items.isEmpty { try expectOp(.comma) }
            if current.isOp(.rbrace) { break }
            let key = try parseExpression()
            try expectOp(.colon)
            items.append((key, try parseExpression()))
        }
        try expectOp(.rbrace)
        return .dict(items)
    }

    private mutating func parsePostfix(_ start: Expr) throws(SyntaxError) -> Expr {
        var node = start
        var steps = 0
        defer { depth -= steps }
        while true {
            if current.isOp(.dot) || current.isOp(.lbracket) {
                node = try parseSubscript(node)
            } else if current.isOp(.lparen) {
                node = .call(node, try parseCallArgs())
            } else {
                return node
            }
            // Each step nests the tree one level deeper; evaluation recurses as deep.
            steps += 1
            try enter()
        }
    }

    private mutating func parseFilterExpr(_ start: Expr) throws(SyntaxError) -> Expr {
        var node = start
        var steps = 0
        defer { depth -= steps }
        while true {
            if current.isOp(.pipe) {
                for f in try parseFilterChain(startInline: false) {
                    try nest(&steps)
                    node = .filter(node, f)
                }
                continue
            } else if current.isName("is") {
                node = try parseTest(node)
            } else if current.isOp(.lparen) {
                node = .call(node, try parseCallArgs())
            } else {
                return node
            }
            steps += 1
            try enter()
        }
    }

    private mutating func parseSubscript(_ node: Expr) throws(SyntaxError) -> Expr {
        let token = next()
        if token.isOp(.dot) {
            let attr = current
            next()
            switch attr.kind {
            case .name(let n): return .getattr(node, n)
            case .integer(let i): return .getitem(node, .const(.int(i)))
            default: throw fail("expected name or number", line: attr.line)
            }
        }
        var args: [Expr] = []
        while !current.isOp(.rbracket) {
            if !args.isEmpty { try expectOp(.comma) }
            args.append(try parseSubscribed())
        }
        try expectOp(.rbracket)
        return .getitem(node, args.count == 1 ? args[0] : .tuple(args))
    }

    private mutating func parseSubscribed() throws(SyntaxError) -> Expr {
        var parts: [Expr?] = []
        if current.isOp(.colon) {
            next()
            parts = [nil]
        } else {
            let node = try parseExpression()
            if !current.isOp(.colon) { return node }
            next()
            parts = [node]
        }
        if current.isOp(.colon) {
            parts.append(nil)
        } else if !current.isOp(.rbracket) && !current.isOp(.comma) {
            parts.append(try parseExpression())
        } else {
            parts.append(nil)
        }
        if current.isOp(.colon) {
            next()
            if !current.isOp(.rbracket) && !current.isOp(.comma) {
                parts.append(try parseExpression())
            } else {
                parts.append(nil)
            }
        } else {
            parts.append(nil)
        }
        return .slice(parts[0], parts[1], parts[2])
    }

    private mutating func parseCallArgs() throws(SyntaxError) -> CallArgs {
        let line = current.line
        try expectOp(.lparen)
        var result = CallArgs()
        var requireComma = false
        func ensure(_ ok: Bool) throws(SyntaxError) {
            if !ok { throw SyntaxError(message: "invalid syntax for function call expression", line: line) }
        }
        while !current.isOp(.rparen) {
            if requireComma {
                try expectOp(.comma)
                if current.isOp(.rparen) { break }
            }
            if current.isOp(.mul) {
                try ensure(result.dynArgs == nil && result.dynKwargs == nil)
                next()
                result.dynArgs = try parseExpression()
            } else if current.isOp(.pow) {
                try ensure(result.dynKwargs == nil)
                next()
                result.dynKwargs = try parseExpression()
            } else if case .name(let key) = current.kind, look().isOp(.assign) {
                try ensure(result.dynKwargs == nil)
                next()
                next()
                result.kwargs.append((key, try parseExpression()))
            } else {
                try ensure(result.dynArgs == nil && result.dynKwargs == nil && result.kwargs.isEmpty)
                result.args.append(try parseExpression())
            }
            requireComma = true
        }
        try expectOp(.rparen)
        return result
    }

    private mutating func parseFilterChain(startInline: Bool) throws(SyntaxError) -> [PluginCall] {
        var result: [PluginCall] = []
        var inline = startInline
        while current.isOp(.pipe) || inline {
            if !inline { next() }
            var name = try expectName()
            while current.isOp(.dot) {
                next()
                name += "." + (try expectName())
            }
            let args = current.isOp(.lparen) ? try parseCallArgs() : CallArgs()
            result.append(PluginCall(name: name, args: args))
            inline = false
        }
        return result
    }

    private mutating func parseTest(_ node: Expr) throws(SyntaxError) -> Expr {
        next()
        let negated = skipName("not")
        var name = try expectName()
        while current.isOp(.dot) {
            next()
            name += "." + (try expectName())
        }
        var args = CallArgs()
        if current.isOp(.lparen) {
            args = try parseCallArgs()
        } else if Parser.startsTestArg(current.kind), !current.isName("else"), !current.isName("or"),
            !current.isName("and")
        {
            if current.isName("is") { throw fail("You cannot chain multiple tests with is") }
            let arg = try parsePostfix(try parsePrimary())
            args.args = [arg]
        }
        let test = Expr.test(node, PluginCall(name: name, args: args))
        return negated ? .not(test) : test
    }

    private static func startsTestArg(_ kind: TokenKind) -> Bool {
        switch kind {
        case .name, .string, .integer, .float, .op(.lparen), .op(.lbracket), .op(.lbrace): return true
        default: return false
        }
    }
}
