using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>
/// Checks each argument's JSON type against the tool's input schema before the call, so a wrong type (a string where a
/// boolean goes) gets an error naming the field instead of the generic error the SDK's argument binding would give.
/// Only the top-level "type" of each property is checked; values and nested shapes are the services' to validate.
/// </summary>
public static class ArgumentTypes
{
    /// <summary>An error message for the first argument whose JSON type the schema does not allow, or null.</summary>
    public static string? Check(JsonElement inputSchema, IReadOnlyDictionary<string, JsonElement>? arguments)
    {
        if (arguments is null || arguments.Count == 0) return null;
        if (inputSchema.ValueKind != JsonValueKind.Object || !inputSchema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
            return null;
        foreach (var (name, value) in arguments)
        {
            if (!properties.TryGetProperty(name, out var schema) || schema.ValueKind != JsonValueKind.Object) continue;
            if (!schema.TryGetProperty("type", out var type)) continue;
            var allowed = type.ValueKind switch
            {
                JsonValueKind.String => [type.GetString()!],
                JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToArray(),
                _ => Array.Empty<string>(),
            };
            if (allowed.Length == 0 || allowed.Any(t => Fits(t, value))) continue;
            return $"'{name}' must be {Describe(allowed)}; got {Kind(value)}.";
        }
        return null;
    }

    private static bool Fits(string type, JsonElement v) => type switch
    {
        "string" => v.ValueKind == JsonValueKind.String,
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
        "number" => v.ValueKind == JsonValueKind.Number,
        "array" => v.ValueKind == JsonValueKind.Array,
        "object" => v.ValueKind == JsonValueKind.Object,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Describe(string[] types)
    {
        var words = types.Where(t => t != "null").Select(t => t switch
        {
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "true or false",
            "array" => "an array",
            "object" => "an object",
            _ => "a " + t,
        }).ToList();
        if (types.Contains("null")) words.Add("null");
        return string.Join(" or ", words);
    }

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => v.TryGetInt64(out _) ? "a whole number" : "a number with a fraction",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    /// <summary>The result the client sees for a wrong argument type.</summary>
    public static CallToolResult Error(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };
}
