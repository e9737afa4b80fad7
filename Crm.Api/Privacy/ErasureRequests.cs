using Crm.Jobs.Data;
using Crm.Jobs.Privacy;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Privacy;

// Both erase routes: the erasure row and its job, committed together.
public static class ErasureRequests
{
    // The job is enqueued inside the row's transaction, which holds the erasure's lock until
    // it commits: a job that starts at once waits for the commit (ErasureJobs.LockSpace).
    // Should the commit fail, the caller got no 202 and asks again; the orphan job finds no row
    // and fails visibly in the dashboard. Never a row holding a phone with no job to clear it.
    public static async Task<Accepted<ErasureAccepted>> RequestAsync(
        CrmDbContext db, IBackgroundJobClient jobs, TimeProvider clock, string requestedBy, string phone, long? customerId,
        CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var erasure = new Erasure
        {
            RequestedBy = requestedBy,
            RequestedAt = clock.GetUtcNow().UtcDateTime,
            CustomerId = customerId,
            Phone = phone,
        };
        db.Erasures.Add(erasure);
        await db.SaveChangesAsync(ct);
        await db.Database.ExecuteSqlRawAsync(Db.NamedTransactionLockSql,
            [new NpgsqlParameter("space", ErasureJobs.LockSpace), new NpgsqlParameter("name", erasure.Id.ToString())], ct);
        erasure.JobId = jobs.Enqueue<ErasureJobs>(j => j.EraseAsync(erasure.Id, CancellationToken.None));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        var statusUrl = $"/api/jobs/{erasure.JobId}";
        return TypedResults.Accepted(statusUrl, new ErasureAccepted(erasure.Id, erasure.JobId, statusUrl));
    }
}
