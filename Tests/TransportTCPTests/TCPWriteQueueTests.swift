import NIOCore
import Testing

@testable import TransportTCP

@Suite("TCPWriteQueue")
struct TCPWriteQueueTests {
    private func bytes(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    private func strings(_ taken: (first: ByteBuffer, rest: [ByteBuffer])?) -> [String] {
        guard let taken else { return [] }
        return ([taken.first] + taken.rest).map { String(buffer: $0) }
    }

    @Test("an empty queue has nothing to take")
    func empty() {
        var queue = TCPWriteQueue()
        #expect(queue.isEmpty)
        #expect(queue.take() == nil)
    }

    @Test("frames queued between flushes are written as one buffer, in order")
    func framesShareOneBuffer() {
        var queue = TCPWriteQueue()
        queue.append(bytes("one,"), body: nil)
        queue.append(bytes("two,"), body: nil)
        queue.append(bytes(String(repeating: "3", count: 5_000)), body: nil)
        #expect(!queue.isEmpty)
        #expect(strings(queue.take()) == ["one,two," + String(repeating: "3", count: 5_000)])
        #expect(queue.isEmpty)
        #expect(queue.take() == nil)
    }

    @Test("a separate body stays its own buffer, and later frames go after it")
    func separateBodies() {
        var queue = TCPWriteQueue()
        queue.append(bytes("a,"), body: nil)
        queue.append(bytes("head1,"), body: bytes("BODY1"))
        queue.append(bytes("b,"), body: nil)
        queue.append(bytes("c,"), body: nil)
        queue.append(bytes("head2,"), body: bytes("BODY2"))
        queue.append(bytes("head3,"), body: bytes("BODY3"))
        #expect(strings(queue.take()) == ["a,head1,", "BODY1", "b,c,head2,", "BODY2", "head3,", "BODY3"])
    }

    @Test("the queue starts afresh after a take")
    func afterTake() {
        var queue = TCPWriteQueue()
        queue.append(bytes("head,"), body: bytes("BODY"))
        #expect(strings(queue.take()) == ["head,", "BODY"])
        queue.append(bytes("x,"), body: nil)
        queue.append(bytes("y,"), body: nil)
        #expect(strings(queue.take()) == ["x,y,"])
    }

    @Test("a taken buffer is not changed by frames queued later")
    func takenBuffersStay() {
        var queue = TCPWriteQueue()
        var first = bytes("kept,")
        first.reserveCapacity(1024)
        queue.append(first, body: nil)
        let taken = queue.take()
        queue.append(bytes("later,"), body: nil)
        #expect(strings(taken) == ["kept,"])
        #expect(strings(queue.take()) == ["later,"])
    }
}
