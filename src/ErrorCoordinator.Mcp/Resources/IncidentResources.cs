using System.ComponentModel;
using System.Text.Json;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Mcp.Hosting;
using ErrorCoordinator.Mcp.Tools;
using ModelContextProtocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006

namespace ErrorCoordinator.Mcp.Resources;

/// <summary>Incidents and post-mortems as resources. incident://{id} subscribers are notified on every change, from any process.</summary>
[McpServerResourceType]
public sealed class IncidentResources(IncidentService incidents, PostmortemService postmortems)
{
    public const string IncidentScheme = "incident://";

    public static string UriOf(string incidentId) => IncidentScheme + Uri.EscapeDataString(incidentId);

    [McpServerResource(UriTemplate = "incident://{id}", Name = "incident", Title = "Incident", MimeType = "application/json")]
    [Description("One incident with its timeline (every entry cites event ids). Subscribe to be notified (notifications/resources/updated) on every change.")]
    public async Task<string> Incident([Description("The incident id.")] string id, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Serialize(IncidentOutput.From(await incidents.GetAsync(Uri.UnescapeDataString(id), cancellationToken)), McpJson.Options);
        }
        catch (NotFoundException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.ResourceNotFound);
        }
        catch (ValidationException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InvalidParams);
        }
    }

    [McpServerResource(UriTemplate = "postmortem://{id}", Name = "postmortem", Title = "Post-mortem", MimeType = "text/markdown")]
    [Description("A generated post-mortem as Markdown (generate_postmortem returns its id and the structured JSON).")]
    public async Task<string> Postmortem([Description("The post-mortem id, e.g. pm_inc_....")] string id, CancellationToken cancellationToken)
    {
        try
        {
            return (await postmortems.GetAsync(Uri.UnescapeDataString(id), cancellationToken)).Markdown;
        }
        catch (NotFoundException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.ResourceNotFound);
        }
        catch (ValidationException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InvalidParams);
        }
    }
}

/// <summary>Tells incident://{id} subscribers of this process about every incident change (the opener relays them from the bus).</summary>
public sealed class IncidentResourceNotifier(ResourceSubscriptions subscriptions) : IIncidentObserver
{
    public Task IncidentChangedAsync(string incidentId, CancellationToken cancellationToken = default) =>
        subscriptions.NotifyUpdatedAsync(IncidentResources.UriOf(incidentId), cancellationToken);
}

/// <summary>Runs the incident opener (bus subscriptions, cascade checks, change relay) for the life of the host.</summary>
public sealed class IncidentOpenerHostedService(IncidentOpener opener) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => opener.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => opener.StopAsync();
}
