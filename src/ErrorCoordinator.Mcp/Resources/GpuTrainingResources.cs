using System.ComponentModel;
using System.Text.Json;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Mcp.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006

namespace ErrorCoordinator.Mcp.Resources;

/// <summary>The GPU hardware log and the projects' training logs, for post-mortems and for clients that browse resources.</summary>
[McpServerResourceType]
public sealed class GpuTrainingResources(GpuHealthService gpus, TrainingAnomalyService training)
{
    [McpServerResource(UriTemplate = "gpu://hardware-log", Name = "gpu_hardware_log", Title = "GPU hardware log", MimeType = "application/json")]
    [Description("The 100 most recent GPU findings the background watch recorded (memory exhaustion, heat, throttling, XID and ECC errors), newest first; kept 7 days.")]
    public async Task<string> HardwareLog(CancellationToken cancellationToken) =>
        JsonSerializer.Serialize(await gpus.ReadLogAsync(100, cancellationToken), McpJson.Options);

    [McpServerResource(UriTemplate = "training://{project}/log", Name = "training_log", Title = "Training anomaly log", MimeType = "application/json")]
    [Description("The 100 most recent training anomalies of a project (nan_loss_detected, gradient_explosion) with run, step, values and event ids, newest first; kept 30 days.")]
    public async Task<string> TrainingLog([Description("The project, as given to report_training_metric.")] string project, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Serialize(await training.ReadLogAsync(project, 100, cancellationToken), McpJson.Options);
        }
        catch (Core.Common.ValidationException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InvalidParams);
        }
    }
}
