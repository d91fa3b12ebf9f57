using System.ComponentModel;
using System.Text.Json;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Mcp.Hosting;
using ErrorCoordinator.Mcp.Tools;
using ModelContextProtocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006

namespace ErrorCoordinator.Mcp.Resources;

/// <summary>Read-only views of error state for clients that browse resources.</summary>
[McpServerResourceType]
public sealed class ErrorResources(ErrorReportingService errors, IErrorStore store)
{
    [McpServerResource(UriTemplate = "errors://groups", Name = "error_groups", Title = "Open error groups", MimeType = "application/json")]
    [Description("The 50 most recently seen error groups that are not ignored, with counts and agents.")]
    public async Task<string> Groups(CancellationToken cancellationToken)
    {
        var page = await errors.ListGroupsAsync(new GroupQuery { Limit = 50 }, cancellationToken);
        return JsonSerializer.Serialize(new ListGroupsOutput(page.Items.Select(GroupOutput.From).ToList(), page.NextCursor), McpJson.Options);
    }

    [McpServerResource(UriTemplate = "errors://groups/{group_id}", Name = "error_group", Title = "Error group", MimeType = "application/json")]
    [Description("One error group with its recent events and last-24-hours histogram.")]
    public async Task<string> Group([Description("The group id.")] string group_id, CancellationToken cancellationToken)
    {
        try
        {
            var d = await errors.GetGroupAsync(group_id, 10, cancellationToken);
            return JsonSerializer.Serialize(new GroupDetailOutput(GroupOutput.From(d.Group), d.RecentEvents.Select(EventOutput.From).ToList(),
                d.Histogram.Select(h => new HourOutput(h.Hour, h.Count)).ToList()), McpJson.Options);
        }
        catch (Core.Common.NotFoundException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.ResourceNotFound);
        }
        catch (Core.Common.ValidationException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InvalidParams);
        }
    }

    [McpServerResource(UriTemplate = "errors://audit", Name = "error_audit", Title = "Recent error audit entries", MimeType = "application/json")]
    [Description("The 100 most recent entries of the error audit stream (reports and status changes), newest first.")]
    public async Task<string> Audit(CancellationToken cancellationToken)
    {
        var entries = await store.ReadAuditAsync(100, cancellationToken);
        return "[" + string.Join(",", entries) + "]";
    }
}
