public import SwansibleData

extension Value {
    /// Python's `str()` of the value as ansible-core would print it in messages (`['a', 1]`, `{'k': True}`).
    public var pythonStr: String { pyStr(self) }

    // `pythonRepr` is SwansibleData's.
}
