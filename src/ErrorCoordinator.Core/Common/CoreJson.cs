using System.Text.Json;
using System.Text.Json.Serialization;

namespace ErrorCoordinator.Core.Common;

/// <summary>The one JSON shape used for stored and published payloads: snake_case names and enum values.</summary>
public static class CoreJson
{
    public static readonly JsonSerializerOptions Options = Create();

    public static JsonSerializerOptions Create(bool ignoreNulls = true)
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = ignoreNulls ? JsonIgnoreCondition.WhenWritingNull : JsonIgnoreCondition.Never,
            WriteIndented = false,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return o;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)
        ?? throw new JsonException($"Stored {typeof(T).Name} is empty.");
}
