import Testing
@testable import TResNetONNX

/// The symbolic size expressions the shape evaluator computes with: equal sizes compare equal however the
/// exporter spelled the arithmetic.
struct SymbolicShapeTests {
    let n = SymExpr(symbol: "N"), h = SymExpr(symbol: "H"), w = SymExpr(symbol: "W")

    @Test func sumsAndProductsNormalize() throws {
        #expect(try n * h + SymExpr(3) == (try SymExpr(3) + h * n))
        #expect(try (n + h) * SymExpr(2) == (try n.scaled(2) + h.scaled(2)))
        #expect(try (h - h) == SymExpr(0))
        #expect(try (n * SymExpr(4) * SymExpr(4)).description == "16·N")
        #expect(try (h + w - n).constant == nil)
    }

    @Test func divisionRoundsDownAndComposes() throws {
        #expect(try h.dividedDown(by: 4).dividedDown(by: 4) == (try h.dividedDown(by: 16)))
        #expect(try (h.scaled(4) + SymExpr(3)).dividedDown(by: 4) == h)
        #expect(try (h.scaled(8) + SymExpr(5)).dividedDown(by: 4) == (try h.scaled(2) + SymExpr(1)))
        #expect(try h.dividedDown(by: 4) != (try h.dividedDown(by: 2)))
        #expect(try h.dividedDown(by: 4).description == "H/4")
        #expect(try (h + SymExpr(1)).dividedDown(by: 2).description == "(H + 1)/2")
        #expect(try SymExpr(7).dividedDown(by: 2) == SymExpr(3))
        #expect(try SymExpr(-7).dividedDown(by: 2) == SymExpr(-3))  // ONNX Div on integers truncates
    }

    @Test func badArithmeticIsAnError() {
        #expect(throws: SymExprError.self) { try h.dividedDown(by: 0) }
        #expect(throws: SymExprError.self) { try SymExpr(Int.max) + SymExpr(1) }
        #expect(throws: SymExprError.self) { try SymExpr(Int.max) * SymExpr(2) }
        #expect(throws: SymExprError.self) {
            var e = SymExpr(1)
            for _ in 0..<20 { e = try e * h }
        }
    }
}

extension SymbolicShapeTests {
    @Test func nestingIsBounded() throws {
        var e = try h + SymExpr(1)
        var threw = false
        for _ in 0..<20 {
            do { e = try (e.dividedDown(by: 3) + SymExpr(1)) } catch is SymExprError { threw = true; break }
        }
        #expect(threw)
        #expect(e.nesting <= SymExpr.maxNesting)
    }
}
