using System.Globalization;
using System.Text;
using ErrorCoordinator.Core.Common;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Errors;

/// <summary>A report that passed validation: parsed enums and timestamp, nothing scrubbed yet.</summary>
public sealed record ValidatedReport(FailureReport Report, Severity? Severity, ErrorCategory? Category, DateTimeOffset OccurredAt);

/// <summary>
/// Checks a report against the configured limits. Every failure names the field and the limit,
/// and nothing is stored when one is found.
/// </summary>
public sealed class FailureValidator(IOptions<LimitsOptions> limits, TimeProvider time)
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
    ];

    public LimitsOptions Limits => limits.Value;

    public ValidatedReport Validate(FailureReport report, string prefix = "")
    {
        var l = limits.Value;
        RequireName(prefix + "agent", report.Agent, l.MaxNameLength);
        RequireName(prefix + "error_type", report.ErrorType, l.MaxNameLength);
        if (string.IsNullOrWhiteSpace(report.Message)) throw ValidationException.Required(prefix + "message");
        CheckBytes(prefix + "message", report.Message, l.MaxMessageBytes);
        CheckText(prefix + "message", report.Message);
        if (report.Stack is not null)
        {
            CheckBytes(prefix + "stack", report.Stack, l.MaxStackBytes);
            CheckText(prefix + "stack", report.Stack);
        }
        OptionalName(prefix + "task_id", report.TaskId, l.MaxNameLength);
        OptionalName(prefix + "project", report.Project, l.MaxNameLength);
        OptionalName(prefix + "component", report.Component, l.MaxNameLength);
        OptionalName(prefix + "code", report.Code, l.MaxNameLength);
        OptionalName(prefix + "trace_id", report.TraceId, l.MaxNameLength);

        if (report.Tags is { } tags)
        {
            if (tags.Count > l.MaxTags)
                throw new ValidationException(prefix + "tags", $"'{prefix}tags' has {tags.Count} entries; the limit is {l.MaxTags} tags.");
            foreach (var (key, value) in tags)
            {
                if (string.IsNullOrWhiteSpace(key))
                    throw new ValidationException(prefix + "tags", $"'{prefix}tags' has an empty key.");
                if (key.Length > l.MaxTagLength)
                    throw new ValidationException(prefix + "tags", $"'{prefix}tags' key '{Shorten(key)}' exceeds the limit of {l.MaxTagLength} characters.");
                if (value is null)
                    throw new ValidationException(prefix + "tags", $"'{prefix}tags.{Shorten(key)}' has no value.");
                if (value.Length > l.MaxTagLength)
                    throw new ValidationException(prefix + "tags", $"'{prefix}tags.{Shorten(key)}' exceeds the limit of {l.MaxTagLength} characters.");
                CheckText(prefix + "tags", key);
                CheckText(prefix + "tags", value);
            }
        }

        Severity? severity = null;
        if (report.Severity is not null)
        {
            if (!Taxonomy.TryParseSeverity(report.Severity, out var s))
                throw new ValidationException(prefix + "severity", $"'{prefix}severity' must be one of {string.Join(", ", Taxonomy.SeverityNames)}; got '{Shorten(report.Severity)}'.");
            severity = s;
        }

        ErrorCategory? category = null;
        if (report.Category is not null)
        {
            if (!Taxonomy.TryParseCategory(report.Category, out var c))
                throw new ValidationException(prefix + "category", $"'{prefix}category' must be one of {string.Join(", ", Taxonomy.CategoryNames)}; got '{Shorten(report.Category)}'.");
            category = c;
        }

        var now = time.GetUtcNow();
        var occurredAt = now;
        if (report.OccurredAt is not null)
        {
            occurredAt = ParseTimestamp(prefix + "occurred_at", report.OccurredAt);
            if (occurredAt - now > l.MaxFutureSkew)
                throw new ValidationException(prefix + "occurred_at",
                    $"'{prefix}occurred_at' is more than {l.MaxFutureSkew.TotalHours:0.#} hours in the future ({occurredAt:O}); the limit is {l.MaxFutureSkew.TotalHours:0.#} hours.");
        }

        return new ValidatedReport(report, severity, category, occurredAt);
    }

    /// <summary>Strict ISO-8601: a date, a time, and an explicit offset or Z.</summary>
    public static DateTimeOffset ParseTimestamp(string field, string value)
    {
        var text = value.Trim();
        if (HasOffset(text) && DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal, out var parsed))
            return parsed.ToUniversalTime();
        throw new ValidationException(field,
            $"'{field}' must be an ISO-8601 timestamp with an offset, e.g. 2026-12-04T13:45:00Z; got '{Shorten(value)}'.");
    }

    private static bool HasOffset(string s) =>
        s.EndsWith('Z') || s.EndsWith('z') ||
        (s.Length > 6 && (s[^6] == '+' || s[^6] == '-') && s[^3] == ':' && char.IsAsciiDigit(s[^5]) && char.IsAsciiDigit(s[^4]) && char.IsAsciiDigit(s[^2]) && char.IsAsciiDigit(s[^1]));

    public static void RequireName(string field, string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value)) throw ValidationException.Required(field);
        if (value.Length > max) throw ValidationException.TooLong(field, max);
        CheckText(field, value);
    }

    public static void OptionalName(string field, string? value, int max)
    {
        if (value is null) return;
        if (value.Length == 0 || string.IsNullOrWhiteSpace(value))
            throw new ValidationException(field, $"'{field}' must not be empty when given.");
        if (value.Length > max) throw ValidationException.TooLong(field, max);
        CheckText(field, value);
    }

    /// <summary>Refuses text that is not valid Unicode (a lone surrogate cannot be stored or encoded as UTF-8).</summary>
    public static void CheckText(string field, string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            throw new ValidationException(field, $"'{field}' is not valid Unicode text (a lone surrogate at position {i}).");
        }
    }

    public static void CheckBytes(string field, string value, int maxBytes)
    {
        // Cheap upper bound first: UTF-8 is at most 3 bytes per UTF-16 char.
        if (value.Length * 3 <= maxBytes) return;
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > maxBytes)
            throw new ValidationException(field, $"'{field}' is {bytes} bytes; the limit is {maxBytes} bytes ({maxBytes / 1024} KiB).");
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
