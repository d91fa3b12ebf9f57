using System.Buffers.Text;
using System.Text;

namespace ErrorCoordinator.Core.Common;

/// <summary>One page of results with an opaque cursor for the next page (null when there is none).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// A position in a score-ordered index: the score and the member of the last item returned.
/// Encoded as URL-safe base64 so clients treat it as opaque.
/// </summary>
public readonly record struct IndexCursor(double Score, string Member)
{
    public string Encode()
    {
        var raw = Encoding.UTF8.GetBytes(Score.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "|" + Member);
        return Base64Url.EncodeToString(raw);
    }

    public static bool TryDecode(string? cursor, out IndexCursor value)
    {
        value = default;
        if (string.IsNullOrEmpty(cursor)) return false;
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var bar = text.IndexOf('|');
            if (bar <= 0) return false;
            if (!double.TryParse(text.AsSpan(0, bar), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var score)) return false;
            value = new IndexCursor(score, text[(bar + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
