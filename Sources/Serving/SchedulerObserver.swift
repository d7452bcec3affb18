// What the batch scheduler reports as it works, so that metrics (or a test) can follow it without the scheduler
// knowing either. Calls come from the scheduler's thread, except `queued` (the submitter's).

public protocol SchedulerObserver: Sendable {
    /// `count` jobs joined the queue.
    func queued(_ count: Int)
    /// A job left the queue (to a slot, or ended while waiting).
    func dequeued()
    /// A job took a sequence slot; its cache already held `reusedPrefixTokens` of its prompt.
    func sequenceStarted(reusedPrefixTokens: Int)
    /// A sequence gave up its slot.
    func sequenceEnded()
    /// One forward pass ran `tokens` tokens of `sequences` sequences.
    func stepped(tokens: Int, sequences: Int)
    /// A sequence produced its first token `seconds` after its request arrived.
    func firstToken(seconds: Double, promptTokens: Int)
    /// A sequence produced another token, `seconds` after its previous one.
    func nextToken(seconds: Double)
    /// A sequence ended having generated `tokens` tokens.
    func generated(tokens: Int)
}
