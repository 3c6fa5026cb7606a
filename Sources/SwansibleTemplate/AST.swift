import SwansibleData

/// Arithmetic operators of Jinja2 expressions.
enum BinOp: String, Sendable {
    case add = "+"
    case sub = "-"
    case mul = "*"
    case div = "/"
    case floordiv = "//"
    case mod = "%"
    case pow = "**"
}

enum CmpOp: String, Sendable {
    case eq = "=="
    case ne = "!="
    case lt = "<"
    case lteq = "<="
    case gt = ">"
    case gteq = ">="
    case `in` = "in"
    case notin = "not in"
}

/// The arguments of a call, filter or test.
struct CallArgs: Sendable {
    var args: [Expr] = []
    var kwargs: [(String, Expr)] = []
    var dynArgs: Expr? = nil
    var dynKwargs: Expr? = nil
}

/// A filter or test application.
struct PluginCall: Sendable {
    var name: String
    var args: CallArgs
}

indirect enum Expr: Sendable {
    case const(Value)
    case name(String)
    case getattr(Expr, String)
    case getitem(Expr, Expr)
    case slice(Expr?, Expr?, Expr?)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case binary(BinOp, Expr, Expr)
    case neg(Expr)
    case pos(Expr)
    case not(Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case concat([Expr])
    case compare(Expr, [(CmpOp, Expr)])
    case cond(test: Expr, then: Expr, otherwise: Expr?)
    /// `value | name(args)`; the value is nil in `{% filter %}` blocks and `{% set x | f %}`.
    case filter(Expr?, PluginCall)
    case test(Expr, PluginCall)
    case call(Expr, CallArgs)
}

indirect enum Target: Sendable {
    case name(String)
    case tuple([Target])
    case nsref(String, String)

    var names: [String] {
        switch self {
        case .name(let n): return [n]
        case .tuple(let items): return items.flatMap(\.names)
        case .nsref: return []
        }
    }
}

enum OutputPart: Sendable {
    case data(String)
    case expr(Expr)
}

struct ForLoop: Sendable {
    var target: Target
    var iter: Expr
    var filter: Expr?
    var recursive: Bool
    var body: [Stmt]
    var otherwise: [Stmt]
}

struct MacroDef: Sendable {
    var name: String
    var params: [String]
    var defaults: [Expr]
    var body: [Stmt]
}

indirect enum Stmt: Sendable {
    case output([OutputPart])
    case ifs([(Expr, [Stmt])], otherwise: [Stmt])
    case forLoop(ForLoop)
    case assign(Target, Expr)
    case assignBlock(Target, filters: [PluginCall], body: [Stmt])
    case filterBlock([PluginCall], body: [Stmt])
    case with([(Target, Expr)], body: [Stmt])
    case macro(MacroDef)
    case callBlock(call: Expr, params: [String], defaults: [Expr], body: [Stmt])
    case include(Expr, ignoreMissing: Bool, withContext: Bool)
    /// `{% import 'x.j2' as m %}`.
    case importAll(Expr, as: String, withContext: Bool)
    /// `{% from 'x.j2' import a, b as c %}`.
    case fromImport(Expr, names: [(String, String)], withContext: Bool, line: Int)
}
