using System.Text.Json;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Mcp.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ErrorCoordinator.Mcp.Tools;

/// <summary>
/// Shapes tool results (structured content plus a short human text) and turns domain errors into
/// McpExceptions, the only exceptions whose message reaches the client.
/// </summary>
internal static class ToolCall
{
    public static async Task<CallToolResult> RunAsync<T>(Func<Task<T>> action, Func<T, string> text)
    {
        T value;
        try
        {
            value = await action();
        }
        catch (ValidationException ex)
        {
            throw new McpException(ex.Message, ex);
        }
        catch (NotFoundException ex)
        {
            throw new McpException(ex.Message, ex);
        }
        catch (TransientException ex)
        {
            throw new McpException($"Not recorded: {ex.Message}; report it again.", ex);
        }
        return Result(value, text(value));
    }

    public static CallToolResult Result<T>(T value, string text) => new()
    {
        Content = [new TextContentBlock { Text = text }],
        StructuredContent = JsonSerializer.SerializeToElement(value, McpJson.Options),
    };

    /// <summary>Parses an optional ISO-8601 timestamp parameter strictly.</summary>
    public static DateTimeOffset? Timestamp(string field, string? value) =>
        value is null ? null : Core.Errors.FailureValidator.ParseTimestamp(field, value);

    public static T ParseEnum<T>(string field, string? value, TryParse<T> parse, IReadOnlyList<string> allowed) where T : struct
    {
        if (parse(value, out var result)) return result;
        throw new ValidationException(field, $"'{field}' must be one of {string.Join(", ", allowed)}; got '{value}'.");
    }

    public delegate bool TryParse<T>(string? value, out T result);

    public static string Plural(long n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";
}
