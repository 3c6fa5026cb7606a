public import SwansibleData

extension Value {
    /// Python's `str()` of the value as ansible-core would print it in messages (`['a', 1]`, `{'k': True}`).
    public var pythonStr: String { pyStr(self) }

    /// Python's `repr()` of the value.
    public var pythonRepr: String { pyRepr(self) }
}
