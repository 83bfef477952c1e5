@testable import CodecJSON
import Foundation
import Synchronization
import Testing

@Suite struct ThreadLocalSpareTests {
    final class Box {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    @Test func takeEmptiesTheSlotAndPutFillsOnlyAnEmptyOne() {
        let spare = ThreadLocalSpare<Box>()
        #expect(spare.take() == nil)
        let first = Box(1)
        spare.put(first)
        spare.put(Box(2))
        #expect(spare.take() === first, "the second put must not replace the spare already there")
        #expect(spare.take() == nil, "take must leave the slot empty")
    }

    @Test func eachThreadHasItsOwnSlot() {
        let spare = ThreadLocalSpare<Box>()
        spare.put(Box(1))
        // Had the threads shared a slot, the other thread's put would find it full and
        // its take would return this thread's box.
        let seenOnOtherThread = Mutex<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            spare.put(Box(2))
            seenOnOtherThread.withLock { $0 = spare.take()?.value }
            done.signal()
        }.start()
        done.wait()
        #expect(seenOnOtherThread.withLock { $0 } == 2)
        #expect(spare.take()?.value == 1)
    }

    @Test func aThreadsSpareIsReleasedWhenItExits() {
        final class Watch: @unchecked Sendable { weak var box: Box? }
        let spare = ThreadLocalSpare<Box>()
        let watch = Watch()
        let done = DispatchSemaphore(value: 0)
        Thread {
            let box = Box(3)
            watch.box = box
            spare.put(box)
            done.signal()
        }.start()
        done.wait()
        // The key's destructor runs as the thread exits, after its closure returned.
        var waited = 0
        while watch.box != nil, waited < 2000 {
            usleep(1000)
            waited += 1
        }
        #expect(watch.box == nil, "the spare of a finished thread must be released")
    }
}
