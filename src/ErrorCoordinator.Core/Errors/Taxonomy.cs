namespace ErrorCoordinator.Core.Errors;

/// <summary>How bad an event is. Ordered from most to least severe.</summary>
public enum Severity
{
    Critical,
    Error,
    Warning,
    Info,
}

/// <summary>The error taxonomy every event is mapped to (one category per event).</summary>
public enum ErrorCategory
{
    Infrastructure,
    Application,
    Integration,
    Data,
    Timeout,
    Permission,
    ResourceExhaustion,
    External,
}

/// <summary>Lifecycle of an error group, as in Sentry: resolved groups that see a new event become regressed.</summary>
public enum GroupStatus
{
    Unresolved,
    Resolved,
    Ignored,
    Regressed,
}

/// <summary>Sort orders for listing error groups.</summary>
public enum GroupSort
{
    LastSeen,
    FirstSeen,
    Count,
}

/// <summary>Parsing and wire names for the taxonomy enums (snake_case, as on the wire).</summary>
public static class Taxonomy
{
    public static string ToWire(this Severity s) => s switch
    {
        Severity.Critical => "critical",
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };

    public static string ToWire(this ErrorCategory c) => c switch
    {
        ErrorCategory.Infrastructure => "infrastructure",
        ErrorCategory.Application => "application",
        ErrorCategory.Integration => "integration",
        ErrorCategory.Data => "data",
        ErrorCategory.Timeout => "timeout",
        ErrorCategory.Permission => "permission",
        ErrorCategory.ResourceExhaustion => "resource_exhaustion",
        _ => "external",
    };

    public static string ToWire(this GroupStatus s) => s switch
    {
        GroupStatus.Unresolved => "unresolved",
        GroupStatus.Resolved => "resolved",
        GroupStatus.Ignored => "ignored",
        _ => "regressed",
    };

    public static readonly IReadOnlyList<string> SeverityNames = ["critical", "error", "warning", "info"];
    public static readonly IReadOnlyList<string> CategoryNames =
        ["infrastructure", "application", "integration", "data", "timeout", "permission", "resource_exhaustion", "external"];
    public static readonly IReadOnlyList<string> StatusNames = ["unresolved", "resolved", "ignored", "regressed"];
    public static readonly IReadOnlyList<string> SortNames = ["count", "last_seen", "first_seen"];

    public static bool TryParseSeverity(string? value, out Severity severity)
    {
        severity = Severity.Error;
        switch (value?.Trim().ToLowerInvariant())
        {
            case "critical": severity = Severity.Critical; return true;
            case "error": severity = Severity.Error; return true;
            case "warning": severity = Severity.Warning; return true;
            case "info": severity = Severity.Info; return true;
            default: return false;
        }
    }

    public static bool TryParseCategory(string? value, out ErrorCategory category) => TryParseName(CategoryNames, value, out category);

    public static bool TryParseStatus(string? value, out GroupStatus status) => TryParseName(StatusNames, value, out status);

    /// <summary>Wire names are listed in enum order, so a name's position is its value.</summary>
    private static bool TryParseName<T>(IReadOnlyList<string> names, string? value, out T result) where T : struct, Enum
    {
        result = default;
        var v = value?.Trim().ToLowerInvariant();
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] != v) continue;
            result = (T)Enum.ToObject(typeof(T), i);
            return true;
        }
        return false;
    }

    public static bool TryParseSort(string? value, out GroupSort sort)
    {
        sort = GroupSort.LastSeen;
        switch (value?.Trim().ToLowerInvariant())
        {
            case "last_seen": sort = GroupSort.LastSeen; return true;
            case "first_seen": sort = GroupSort.FirstSeen; return true;
            case "count": sort = GroupSort.Count; return true;
            default: return false;
        }
    }
}
