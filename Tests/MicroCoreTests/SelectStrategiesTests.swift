@testable import MicroCore
import Testing

@Suite struct SelectStrategiesTests {
    let nodes = (0..<3).map { Node(id: "node-\($0)", address: "127.0.0.1:\(9000 + $0)") }

    @Test func randomSpreadsPicksOverEveryNode() {
        let strategy = RandomStrategy()
        var picks: [String: Int] = [:]
        for _ in 0..<3_000 { picks[strategy.pick(from: nodes, service: "s").id, default: 0] += 1 }
        #expect(picks.count == 3)
        // 1,000 expected each; the bounds are more than 10 standard deviations out.
        for (node, count) in picks { #expect((700...1_300).contains(count), "\(node) picked \(count) times") }
    }

    @Test func randomWithOneNodePicksIt() {
        #expect(RandomStrategy().pick(from: [nodes[1]], service: "s") == nodes[1])
    }

    @Test func roundRobinGoesInTurn() {
        let strategy = RoundRobinStrategy()
        let picks = (0..<6).map { _ in strategy.pick(from: nodes, service: "s").id }
        let start = nodes.firstIndex { $0.id == picks[0] }!
        #expect(picks == (0..<6).map { nodes[(start + $0) % 3].id })
    }

    @Test func selectionRandomStaysBelowItsBound() {
        for bound in [1, 2, 3, 7, 100, Int.max] {
            for _ in 0..<200 {
                let value = SelectionRandom.next(below: bound)
                #expect(value >= 0 && value < bound, "\(value) for bound \(bound)")
            }
        }
    }
}
