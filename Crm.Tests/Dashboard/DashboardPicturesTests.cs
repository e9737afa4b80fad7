using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Crm.Api.Dashboard;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Tests.Dashboard;

// The dashboard's pictures: the numbers they are drawn from (a constructed history of each
// source), and the SVG itself: well-formed, no script, data shown as text.
public class DashboardPicturesTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>, IAsyncLifetime
{
    private static readonly DashboardTime Moscow = new(Options.Create(new DashboardSettings { TimeZone = "Europe/Moscow" }));
    // 12:00 in Moscow.
    private static readonly DateTime Now = new(2026, 11, 20, 9, 0, 0, DateTimeKind.Utc);
    private string _database = "";

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task TheCategorySeriesWalksTheLedgerBackDayByDay()
    {
        // D and E are older than the window; A, B and C arrive 10 days ago as new.
        await AddCustomerAsync("+79990000004", "regular", Now.AddDays(-100));
        var e = await AddCustomerAsync("+79990000005", "regular", Now.AddDays(-100));
        var a = await AddCustomerAsync("+79990000001", "new", Now.AddDays(-10));
        var b = await AddCustomerAsync("+79990000002", "new", Now.AddDays(-10));
        var c = await AddCustomerAsync("+79990000003", "new", Now.AddDays(-10));
        await SetCategoryAsync(e, "inactive", Now.AddDays(-20));
        await SetCategoryAsync(a, "vip", Now.AddDays(-5));
        // 00:30 in Moscow yesterday: still the day before in UTC.
        var yesterdayJustAfterMidnight = Moscow.StartOfDayUtc(DateOnly.FromDateTime(Moscow.ToLocal(Now)).AddDays(-1)).AddMinutes(30);
        Assert.Equal(Now.Date.AddDays(-2), yesterdayJustAfterMidnight.Date);
        await SetCategoryAsync(b, "regular", yesterdayJustAfterMidnight);
        await DeleteAsync(c, Now.AddDays(-3), redacted: false);
        // E is erased: the values of its deleted row are gone; its category change tells.
        await DeleteAsync(e, Now.AddDays(-2), redacted: true);

        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        var days = await CategoryHistory.ReadAsync(dataSource, Moscow, Now, 90, CancellationToken.None);

        Assert.Equal(90, days.Count);
        Assert.Equal(new DateOnly(2026, 11, 20), days[^1].Day);
        Assert.Equal(new DateOnly(2026, 8, 23), days[0].Day);
        // The customers at the end of the day `ago` days before today: new, regular, vip, inactive.
        string At(int ago) => string.Join(' ', new[] { "new", "regular", "vip", "inactive" }.Select(k => days[^(ago + 1)].Customers[k]));
        Assert.Equal("0 2 0 0", At(89));
        Assert.Equal("0 2 0 0", At(21));
        Assert.Equal("0 1 0 1", At(20));
        Assert.Equal("0 1 0 1", At(11));
        Assert.Equal("3 1 0 1", At(10));
        Assert.Equal("3 1 0 1", At(6));
        Assert.Equal("2 1 1 1", At(5));
        Assert.Equal("1 1 1 1", At(3));
        Assert.Equal("1 1 1 0", At(2));
        Assert.Equal("0 2 1 0", At(1));
        Assert.Equal("0 2 1 0", At(0));
    }

    [Fact]
    public async Task AMergeUndoneCountsItsSourceOnceThroughout()
    {
        // Created 10 days ago, merged away 5 days ago, restored by an unmerge 2 days ago: under
        // its id and with its old created_at, so its second created row is dated 10 days ago.
        var source = await AddCustomerAsync("+79990000011", "vip", Now.AddDays(-10));
        await DeleteAsync(source, Now.AddDays(-5), redacted: false);
        await ExecuteAsync("""
            INSERT INTO customers (id, name, phone, category, created_at, updated_at)
            VALUES (@id, 'Покупатель', '+79990000011', 'vip', @created, @at)
            """, ("id", source), ("created", Now.AddDays(-10)), ("at", Now.AddDays(-2)));

        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        var days = await CategoryHistory.ReadAsync(dataSource, Moscow, Now, 90, CancellationToken.None);

        Assert.Equal([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], days.TakeLast(12).Select(d => d.Customers["vip"]));
    }

    [Fact]
    public async Task WriteToExactIsTheFinishOfTheFirstRunThatStartedAfterTheWrite()
    {
        var written = Now.AddMinutes(-30);
        await ExecuteAsync("""
            INSERT INTO customer_sync_requests (phone, version, synced_version, requested_at)
            VALUES ('+79990000001', 2, 2, @written), ('+79990000002', 3, 2, @pending), ('+79990000003', 1, 1, @long_ago);
            INSERT INTO sync_runs (mode, status, started_at, finished_at, created_count, updated_count, unchanged_count,
                                   skipped_count, error_count, total_customers, duration_ms, dry_run)
            VALUES ('auto', 'succeeded', @written - interval '1 second', @written + interval '1 second', 0, 1, 0, 0, 0, 1, 2000, false),
                   ('auto', 'failed', @written + interval '1 second', @written + interval '2 seconds', 0, 0, 0, 0, 1, 1, 1000, false),
                   ('auto', 'succeeded', @written + interval '1 second', @written + interval '3 seconds', 0, 1, 0, 0, 0, 1, 2000, true),
                   ('auto', 'succeeded', @written + interval '2 seconds', @written + interval '4 seconds', 0, 1, 0, 0, 0, 1, 2000, false),
                   ('force', 'succeeded', @written + interval '5 seconds', @written + interval '9 seconds', 0, 1, 0, 0, 0, 1, 4000, false)
            """, ("written", written), ("pending", Now.AddMinutes(-7)), ("long_ago", Now.AddDays(-3)));

        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        var freshness = await FreshnessHistory.ReadAsync(dataSource, Now.AddHours(-24), 500, CancellationToken.None);

        // Not the failed run, not the dry run: the next real one.
        var exact = Assert.Single(freshness.Exact);
        Assert.Equal(written, exact.WrittenAt);
        Assert.Equal(TimeSpan.FromSeconds(4), exact.ToExact);
        Assert.Equal(1, freshness.Pending);
        Assert.Equal(Now.AddMinutes(-7), freshness.OldestPendingAt);
    }

    [Fact]
    public async Task TheBacklogCountsEachEventFromWhenItOccurredUntilItsMessageWasDelivered()
    {
        await ExecuteAsync("""
            WITH w AS (
                INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at)
                VALUES ('https://hooks.example.com/a', '{*}', true, 'whsec_ZGFzaGJvYXJkLXRlc3Qtc2VjcmV0LTA0', @now, @now)
                RETURNING id
            ), m AS (
                INSERT INTO webhook_messages (webhook_id, message_id, body, event_count, first_occurred_at, created_at, attempts, delivered_at)
                SELECT id, 'msg_1', '{}', 2, @now - interval '150 minutes', @now - interval '150 minutes', 1, @now - interval '90 minutes' FROM w
                UNION ALL
                SELECT id, 'msg_2', '{}', 1, @now - interval '5 hours', @now - interval '5 hours', 1, @now - interval '4 hours' FROM w
                RETURNING id, webhook_id, message_id
            )
            INSERT INTO webhook_events (webhook_id, type, occurred_at, data, message_id)
            SELECT webhook_id, 'customer.updated', @now - interval '150 minutes', '{"customerId": 1}'::jsonb, id FROM m WHERE message_id = 'msg_1'
            UNION ALL
            SELECT webhook_id, 'customer.updated', @now - interval '130 minutes', '{"customerId": 2}', id FROM m WHERE message_id = 'msg_1'
            UNION ALL
            SELECT webhook_id, 'customer.updated', @now - interval '5 hours', '{"customerId": 3}', id FROM m WHERE message_id = 'msg_2'
            UNION ALL
            SELECT webhook_id, 'customer.updated', @now - interval '30 minutes', '{"customerId": 4}', NULL FROM m WHERE message_id = 'msg_2'
            """, ("now", Now));

        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        var points = new[] { Now.AddHours(-3), Now.AddHours(-2), Now.AddHours(-1), Now };
        var pending = await WebhookBacklogHistory.ReadAsync(dataSource, points, CancellationToken.None);

        Assert.Equal([0, 2, 0, 1], pending);
    }

    [Fact]
    public void APictureIsWellFormedSvgWithItsDataAsEncodedText()
    {
        var name = "<script>alert('x')</script> & \"vip\"";
        var lines = SvgChart.Lines("picture-test", "Caption <b>bold</b>", ["11-19", "11-20"], [new ChartSeries(name, [3, 7])], "customers");
        var dots = SvgChart.Dots("picture-dots", "Dots & more", Now.AddHours(-1), Now,
            [new ChartPoint(Now.AddMinutes(-30), 850, name), new ChartPoint(Now, 65_000, "auto")], at => at.ToString("HH:mm"), "ms", "none");

        foreach (var svg in new[] { lines, dots })
        {
            var root = XDocument.Parse(svg).Root!;
            Assert.Equal("{http://www.w3.org/2000/svg}svg", root.Name.ToString());
            Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<b>", svg);
            // The name is there as text, whole.
            Assert.Contains(root.Descendants().Where(x => x.Name.LocalName is "title" or "text"), x => x.Value.Contains(name));
        }
        Assert.Equal("Caption <b>bold</b>", XDocument.Parse(lines).Root!.Elements().First().Value);
        Assert.Contains("(7)", lines);
        Assert.Contains("850 ms", dots);
        Assert.Contains("1.1 min", dots);
    }

    [Fact]
    public void APictureWithoutDataSaysSoAndDividesByNothing()
    {
        var pictures = new[]
        {
            SvgChart.Lines("a", "No series", [], [], "customers"),
            SvgChart.Lines("b", "All zero", ["1", "2"], [new ChartSeries("vip", [0, 0])], "customers"),
            SvgChart.Lines("c", "One point", ["1"], [new ChartSeries("vip", [5])], "customers"),
            SvgChart.Dots("d", "No dots", Now, Now, [], at => "", "ms", "No sync runs yet."),
            SvgChart.Dots("e", "One dot", Now, Now, [new ChartPoint(Now, 0, "auto")], at => "", "ms", "none"),
        };

        foreach (var svg in pictures)
        {
            XDocument.Parse(svg);
            Assert.DoesNotContain("NaN", svg);
            Assert.DoesNotContain("Infinity", svg);
        }
        Assert.Contains("No data yet.", pictures[0]);
        Assert.Contains("No sync runs yet.", pictures[3]);
    }

    [Fact]
    public async Task TheSyncsPageShowsAReaderTheFourPictures()
    {
        var phone = "+7999" + Random.Shared.Next(1_000_000, 9_999_999);
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                total_amount, status, created_at, updated_at)
            VALUES ('<b>Заказчик</b>', @phone, @phone, 'buyer@example.com', 'Москва', 100, 'completed', @at, @at)
            """, ("phone", phone), ("at", now.AddDays(-1)));
        await factory.CreateClient().FullSyncRunAsync("default");

        var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire/syncs");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Reader.Name}:{TestKeys.Reader.Key}")));
        var response = await factory.CreateClient(key: null).SendAsync(request);
        response.EnsureSuccessStatusCode();
        var html = await response.Content.ReadAsStringAsync();

        var pictures = Regex.Matches(html, "<svg .*?</svg>", RegexOptions.Singleline).Select(m => m.Value).ToList();
        Assert.Equal(["picture-sync-durations", "picture-freshness", "picture-webhook-backlog", "picture-categories"],
            pictures.Select(svg => (string)XDocument.Parse(svg).Root!.Attribute("id")!));
        Assert.DoesNotContain("<script", string.Concat(pictures), StringComparison.OrdinalIgnoreCase);
        // The full sync is on the durations picture, the customer it created on the categories'.
        Assert.Contains("default (1)", pictures[0]);
        Assert.Matches(@"new \([1-9]\d*\)", pictures[3]);
    }

    private async Task<long> AddCustomerAsync(string phone, string category, DateTime at)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO customers (name, phone, category, created_at, updated_at) VALUES ('Покупатель', @phone, @category, @at, @at) RETURNING id
            """, connection);
        command.Parameters.AddWithValue("phone", phone);
        command.Parameters.AddWithValue("category", category);
        command.Parameters.AddWithValue("at", at);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // The ledger's category row takes the row's updated_at.
    private Task SetCategoryAsync(long id, string category, DateTime at) =>
        ExecuteAsync("UPDATE customers SET category = @category, updated_at = @at WHERE id = @id", ("id", id), ("category", category), ("at", at));

    // A delete's ledger row takes the statement's time: moved to `at` afterwards, as if then.
    private Task DeleteAsync(long id, DateTime at, bool redacted) => ExecuteAsync($"""
        DELETE FROM customers WHERE id = @id;
        UPDATE customer_changes SET changed_at = @at{(redacted ? ", old_value = NULL, new_value = NULL" : "")}
        WHERE customer_id = @id AND field = 'deleted';
        {(redacted ? "UPDATE customer_changes SET old_value = NULL, new_value = NULL WHERE customer_id = @id AND field = 'created';" : "")}
        """, ("id", id), ("at", at));

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }
}
