using Hangfire.Common;

namespace Crm.Jobs.Hosting;

// Hangfire's global filters plus this host's own, so that several hosts in one process
// (the tests) each observe their own jobs.
internal sealed class HostJobFilterProvider(JobObservation observation) : IJobFilterProvider
{
    public IEnumerable<JobFilter> GetFilters(Job job) =>
        JobFilterProviders.Providers.GetFilters(job).Append(new JobFilter(observation, JobFilterScope.Global, null));
}
