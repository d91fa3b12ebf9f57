namespace ErrorCoordinator.Core.Common;

/// <summary>
/// Bad input from a caller. The message names the field and the limit; the host turns it into an
/// MCP error the client sees. Nothing is stored when this is thrown.
/// </summary>
public sealed class ValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;

    public static ValidationException Required(string field) => new(field, $"'{field}' is required.");

    public static ValidationException TooLong(string field, int limit, string unit = "characters") =>
        new(field, $"'{field}' exceeds the limit of {limit} {unit}.");
}

/// <summary>A lookup by id found nothing.</summary>
public sealed class NotFoundException(string what, string id) : Exception($"{what} '{id}' was not found.")
{
    public string What { get; } = what;
    public string Id { get; } = id;
}

/// <summary>A failure that another try will most likely not meet (the host tells the caller to report again).</summary>
public sealed class TransientException(string message) : Exception(message);
