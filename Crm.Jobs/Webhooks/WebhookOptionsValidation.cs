using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Crm.Jobs.Webhooks;

// Checked at start, one line each: the networks a receiver may be in, and the setting they
// replaced (which opened loopback and the metadata service too).
public sealed class WebhookOptionsValidation(IConfiguration configuration) : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions o)
    {
        var problems = o.AllowedNetworks.Select(WebhookAddresses.NetworkProblem).OfType<string>().ToList();
        if (configuration[WebhookOptions.RemovedAllowPrivateNetworks] is not null)
            problems.Add($"{WebhookOptions.RemovedAllowPrivateNetworks} was replaced by {WebhookOptions.Section}:AllowedNetworks, " +
                         "a list of the networks (CIDR) receivers may be in; remove it.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
