using System.Security.Cryptography;
using System.Text;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>What a signature engine sees of an event (already scrubbed).</summary>
public sealed record SignatureInput(
    string ErrorType,
    string Message,
    string? Stack,
    string Agent,
    string? Component,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// The grouping of one event: <see cref="Template"/> is the normalized message with placeholders,
/// <see cref="GroupId"/> the stable id every process computes for it.
/// </summary>
public sealed record SignatureResult(string Template, string GroupId)
{
    /// <summary>The signature shown to users: the error type combined with the template.</summary>
    public string Signature(string errorType) => $"{errorType}: {Template}";

    /// <summary>
    /// For a mined template: the assignment the store must accept atomically with the report (see
    /// <see cref="IStoreBackedSignatureEngine"/>). Null for signatures that need no shared state (stacks, rules, seed).
    /// </summary>
    public TemplateDecision? Decision { get; init; }
}

/// <summary>
/// An engine whose state lives in the store: <see cref="Propose"/> computes a signature from this process's
/// replica, possibly with a <see cref="SignatureResult.Decision"/>; the caller records the report with it, then
/// reports back: <see cref="Accepted"/> when the store took it, <see cref="Refresh"/> with the store's bucket when
/// it conflicted, and proposes again. Every process and every restart thus assigns the same group to the same template.
/// </summary>
public interface IStoreBackedSignatureEngine : ISignatureEngine
{
    SignatureResult Propose(SignatureInput input);

    void Accepted(TemplateDecision decision, IReadOnlyList<string>? evicted);

    void Refresh(TemplateDecision decision, TemplateBucketSnapshot snapshot);

    /// <summary>How many times a report is proposed before the caller gives up.</summary>
    int MaxAttempts { get; }
}

/// <summary>
/// The seam every grouping feature goes through. Implementations must be deterministic: the same
/// input in the same order always gives the same group, on every process.
/// </summary>
public interface ISignatureEngine
{
    ValueTask<SignatureResult> ComputeAsync(SignatureInput input, CancellationToken cancellationToken = default);
}

/// <summary>Stable group ids: a short, prefixed hash of the fingerprint parts.</summary>
public static class GroupIds
{
    public static string FromParts(params string[] parts)
    {
        var text = string.Join("\u001f", parts);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return "grp_" + Convert.ToHexStringLower(hash[..10]);
    }
}
