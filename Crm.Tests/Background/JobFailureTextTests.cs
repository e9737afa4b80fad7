using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Crm.Jobs.Data;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Background;

// A failure's exception may name a host, a constraint and a customer's phone: what readers
// get of it (the job, the run, the sync.failed webhook, the original route's 500, the
// dashboard) says what happened; the exception itself goes to the log only.
public partial class JobFailureTextTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private const string Classified = "A database trigger refused the statement (P0001)";

    private static void AssertNoRawText(string text, string phone)
    {
        foreach (var raw in new[] { phone, phone[1..], "ck_secret_rule", "db-7.internal.example", "test_refuse_loudly" })
            Assert.False(text.Contains(raw, StringComparison.Ordinal), $"'{raw}' appears in: {text}");
    }

    [Fact]
    public async Task ReadersAndTheOriginalRouteGetWhatHappenedNotTheExceptionsText()
    {
        var phone = TestPhones.New();
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at)
            VALUES ('https://hooks.example.com/failed', '{sync.failed}', true, 'whsec_ZmFpbHVyZS10ZXh0LXRlc3Qtc2VjcmV0', @now, @now);
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                total_amount, status, created_at, updated_at)
            VALUES ('Отказник', @phone, @phone, 'refused@example.com', 'Отказ', 100, 'completed', @now, @now);
            """, ("phone", phone), ("now", now));
        await factory.ExecuteAsync(Poison.LoudRefusalSql);
        try
        {
            // The original route answers the failed attempt with the original's 500.
            var response = await factory.CreateClient(TestKeys.Operator).PostAsync("/api/customers/sync_from_orders/", null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.InternalServerError, body);
            Assert.Contains(Classified, body);
            AssertNoRawText(body, phone);
            var jobId = JobId().Match(body).Groups[1].Value;

            // A reader following the job, the run and the dashboard's pages.
            var reader = factory.CreateClient(TestKeys.Reader);
            var job = await (await reader.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync();
            Assert.Contains(Classified, (string?)job["reason"]);
            AssertNoRawText(job.ToJsonString(), phone);
            var runs = await reader.GetStringAsync("/api/sync/runs?pageSize=200");
            Assert.Contains($"\"error\":\"{Classified}\"", runs);
            AssertNoRawText(runs, phone);
            foreach (var page in new[] { "/hangfire/syncs", $"/hangfire/jobs/details/{jobId}", "/hangfire/jobs/scheduled", "/hangfire/retries" })
            {
                var request = new HttpRequestMessage(HttpMethod.Get, page);
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Reader.Name}:{TestKeys.Reader.Key}")));
                var html = await (await factory.CreateClient(key: null).SendAsync(request)).Content.ReadAsStringAsync();
                AssertNoRawText(html, phone);
            }

            // The sync.failed event is made from the run's row.
            await using var connection = new NpgsqlConnection(factory.ConnectionString);
            await connection.OpenAsync();
            var error = await connection.ScalarAsync<string>(
                "SELECT data->>'error' FROM webhook_events WHERE type = 'sync.failed' ORDER BY id DESC LIMIT 1", CancellationToken.None);
            Assert.Equal(Classified, error);
        }
        finally
        {
            await factory.ExecuteAsync("DROP TRIGGER test_refuse_loudly ON customers; DROP FUNCTION test_refuse_loudly()");
        }
    }

    [Fact]
    public void AnUnexpectedErrorNamesTheReferenceItsLogLineCarries()
    {
        var exception = new InvalidOperationException("db-7.internal.example: +79990001122 broke ck_secret_rule");

        var text = FailureText.Of(exception);

        Assert.Matches("^Unexpected error \\(see the log, reference [0-9a-f]{8}\\)$", text);
        Assert.Equal(text, FailureText.Of(exception));
        // Hangfire cuts a retry's reason at 50 characters.
        Assert.True(text.Length <= 50, text);
        Assert.Contains(FailureText.ReferenceOf(exception), text);
    }

    [GeneratedRegex("\"job_id\":\"([0-9]+)\"")]
    private static partial Regex JobId();
}
