using System.Text.RegularExpressions;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>
/// The original design's signature: UUIDs and numbers become placeholders, then the error type is
/// combined with the message. Kept as the baseline the template engine is measured against.
/// (The original replaced digits before UUIDs, so UUIDs were never recognised; here UUIDs go first.)
/// </summary>
public sealed partial class SeedSignatureEngine : ISignatureEngine
{
    public const int MaxTemplateLength = 100;

    public ValueTask<SignatureResult> ComputeAsync(SignatureInput input, CancellationToken cancellationToken = default)
    {
        var template = Normalize(input.Message);
        return ValueTask.FromResult(new SignatureResult(template, GroupIds.FromParts("seed", input.ErrorType, template)));
    }

    public static string Normalize(string message)
    {
        var s = Uuid().Replace(message, "<*>");
        s = Digits().Replace(s, "<*>");
        return s.Length > MaxTemplateLength ? s[..MaxTemplateLength] : s;
    }

    [GeneratedRegex(@"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid();

    [GeneratedRegex(@"\d+", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();
}
