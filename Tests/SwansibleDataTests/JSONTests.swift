import Testing
import SwansibleData

@Suite struct PythonFloatReprTests {
    @Test(arguments: [
        (0.1, "0.1"), (1.0, "1.0"), (100.0, "100.0"), (1e16, "1e+16"), (1e15, "1000000000000000.0"),
        (1e-5, "1e-05"), (0.0001, "0.0001"), (-2.5, "-2.5"), (123456789.125, "123456789.125"),
        (1.5e300, "1.5e+300"), (5e-324, "5e-324"), (0.0, "0.0"), (-0.0, "-0.0"), (3.14, "3.14"),
        (1234567890123456.7, "1234567890123456.8"), (12345678901234567.0, "1.2345678901234568e+16"),
    ])
    func repr(value: Double, expected: String) {
        #expect(pythonFloatRepr(value) == expected)
    }
}

@Suite struct JSONTests {
    @Test func dumpsLikePython() {
        let v: Value = ["b": [1, 2.5, nil, true], "a": "é\n\"x\"", "c": [:]]
        #expect(v.json() == #"{"b": [1, 2.5, null, true], "a": "\u00e9\n\"x\"", "c": {}}"#)
        #expect(v.json(.compactSorted) == #"{"a": "é\n\"x\"", "b": [1, 2.5, null, true], "c": {}}"#)
        #expect(v.json(.pretty) == """
            {
                "a": "é\\n\\"x\\"",
                "b": [
                    1,
                    2.5,
                    null,
                    true
                ],
                "c": {}
            }
            """)
    }

    @Test func astralPlaneEscapesAsSurrogates() {
        #expect(Value.string("😀").json() == #""\ud83d\ude00""#)
    }

    @Test func parsesKeepingTypesAndOrder() throws {
        let v = try Value(json: #" {"z": 1, "a": [1.0, -2, 3e2, "x\u00e9\ud83d\ude00"], "n": null, "z": 2} "#)
        #expect(v == ["z": 2, "a": [.float(1.0), -2, .float(300), "xé😀"], "n": nil])
        #expect(Array(v.dictValue!.keys) == ["z", "a", "n"])
        if case .float = v["a"]!.listValue![0] {} else { Issue.record("1.0 must stay a float") }
        if case .int = v["z"]! {} else { Issue.record("2 must stay an int") }
    }

    @Test func reportsErrorsLikePython() {
        #expect(throws: JSONParseError.self) { try Value(json: "{\"a\": }") }
        do {
            _ = try Value(json: "{\n  \"a\": 1,\n  b: 2}")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "Expecting property name enclosed in double quotes: line 3 column 3 (char 14)")
        }
        do {
            _ = try Value(json: "[1] x")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "Extra data: line 1 column 5 (char 4)")
        }
    }
}
