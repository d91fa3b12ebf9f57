namespace ErrorCoordinator.Core.Gpu;

/// <summary>One entry of the hardware log (the original design's <c>errors:hardware:gpu:log</c>), newest first.</summary>
public sealed record HardwareLogEntry(
    string Type,
    string Severity,
    int GpuIndex,
    string? GpuUuid,
    string Message,
    string Signature,
    IReadOnlyDictionary<string, string> Figures,
    DateTimeOffset Timestamp);

/// <summary>
/// The GPU hardware log with signature deduplication. Redis (shared by every server on the host or fleet) or in memory.
/// </summary>
public interface IHardwareLog
{
    /// <summary>
    /// Appends <paramref name="entry"/> unless a finding with the same signature was appended within <paramref name="dedupWindow"/>,
    /// in one atomic step. The log keeps at most <paramref name="maxEntries"/> entries and lives <paramref name="retention"/> past its last append.
    /// Returns false (nothing written) for a duplicate.
    /// </summary>
    Task<bool> TryAppendAsync(HardwareLogEntry entry, TimeSpan dedupWindow, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default);

    /// <summary>Forgets the signature, so the next finding with it is appended (used when reporting the appended finding failed).</summary>
    Task ForgetAsync(string signature, CancellationToken cancellationToken = default);

    /// <summary>The newest <paramref name="limit"/> entries, newest first.</summary>
    Task<IReadOnlyList<HardwareLogEntry>> ReadAsync(int limit, CancellationToken cancellationToken = default);
}
