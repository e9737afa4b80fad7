using System.Text.Json.Nodes;

namespace Crm.Tests.Webhooks;

// One request as the receiver got it, with which of its secrets verified it.
public sealed record ReceivedWebhook(
    string Path, string WebhookId, string Timestamp, string Signature, string Body, IReadOnlyList<string> VerifiedBy)
{
    public JsonArray Events => JsonNode.Parse(Body)!["events"]!.AsArray();
}
