using System.Diagnostics;
using Crm.Jobs.Categories;
using Npgsql;

namespace Crm.Bench.Http;

public sealed record BurstCustomer(long Id, string Name, string Phone, string Email, string City);

// The benchmark's database: created, seeded and queried with plain SQL.
public sealed class BenchDatabase : IAsyncDisposable
{
    public const string Name = "crm_bench";

    private readonly string adminConnectionString;

    public string ConnectionString { get; }
    public string AdminConnectionString => adminConnectionString;
    public NpgsqlDataSource DataSource { get; }

    public BenchDatabase(string adminConnectionString)
    {
        this.adminConnectionString = adminConnectionString;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = Name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    public async Task<bool> HasCustomersAsync(int count)
    {
        await using var admin = new NpgsqlConnection(adminConnectionString);
        await admin.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", admin);
        exists.Parameters.AddWithValue("name", Name);
        if (await exists.ExecuteScalarAsync() is null)
            return false;
        try
        {
            return await ScalarAsync<long>("SELECT count(*) FROM customers") >= count;
        }
        catch (PostgresException)
        {
            return false;
        }
    }

    public async Task RecreateAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(adminConnectionString);
        await admin.OpenAsync();
        await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin))
            await drop.ExecuteNonQueryAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {Name}", admin))
            await create.ExecuteNonQueryAsync();
    }

    // Customers straight into the table with generate_series (varied Russian names, e-mails,
    // phones +79…, cities, creation dates over 400 days), and 0–6 orders each (about 3 on
    // average, 75% completed) whose aggregate is exactly the customers' statistics and
    // category, so that a stats-only sync finds nothing to change, as in a synced database.
    public async Task<TimeSpan> SeedAsync(int customers)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var connection = await DataSource.OpenConnectionAsync();

        async Task Execute(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("n", customers);
            CategoryRules.AddParameters(command, new CategoryOptions(), DateTime.UtcNow);
            await command.ExecuteNonQueryAsync();
        }

        await Execute("""
            CREATE TEMP TABLE seed_people AS
            WITH words AS (
                SELECT ARRAY['Александр','Дмитрий','Максим','Сергей','Андрей','Алексей','Артём','Илья',
                             'Кирилл','Михаил','Никита','Матвей','Роман','Егор','Иван'] AS male_first,
                       ARRAY['Анна','Мария','Елена','Ольга','Наталья','Татьяна','Ирина','Екатерина',
                             'Светлана','Юлия','Анастасия','Дарья','Полина','Ксения','Алина'] AS female_first,
                       ARRAY['Иванов','Смирнов','Кузнецов','Попов','Васильев','Петров','Соколов','Михайлов',
                             'Новиков','Фёдоров','Морозов','Волков','Алексеев','Лебедев','Семёнов','Егоров',
                             'Павлов','Козлов','Степанов','Николаев'] AS last,
                       ARRAY['ivanov','smirnov','kuznetsov','popov','vasiliev','petrov','sokolov','mikhailov',
                             'novikov','fedorov','morozov','volkov','alekseev','lebedev','semenov','egorov',
                             'pavlov','kozlov','stepanov','nikolaev'] AS latin,
                       ARRAY['mail.ru','yandex.ru','gmail.com','bk.ru','inbox.ru'] AS domains,
                       ARRAY['Москва','Санкт-Петербург','Новосибирск','Екатеринбург','Казань','Нижний Новгород',
                             'Челябинск','Самара','Омск','Ростов-на-Дону','Уфа','Красноярск','Воронеж','Пермь',
                             'Волгоград'] AS cities,
                       ARRAY['Ленина','Мира','Гагарина','Садовая','Советская','Молодёжная','Школьная',
                             'Лесная','Новая','Набережная'] AS streets
            )
            SELECT i,
                   CASE WHEN i % 2 = 0
                        THEN w.female_first[1 + (i * 7) % 15] || ' ' || w.last[1 + (i * 11 + i / 7) % 20] || 'а'
                        ELSE w.male_first[1 + (i * 7) % 15] || ' ' || w.last[1 + (i * 11 + i / 7) % 20]
                   END AS name,
                   -- 7919 is prime, so i * 7919 mod 10^9 differs for every i: unique, well-spread numbers.
                   '+79' || lpad(((i::bigint * 7919) % 1000000000)::text, 9, '0') AS phone,
                   CASE WHEN i % 10 = 0 THEN ''
                        ELSE w.latin[1 + (i * 11 + i / 7) % 20] || '.' || i || '@' || w.domains[1 + i % 5]
                   END AS email,
                   w.cities[1 + (i * 3) % 15] AS city,
                   'ул. ' || w.streets[1 + (i * 5) % 10] || ', д. ' || (1 + i % 120) || ', кв. ' || (1 + i % 300) AS address,
                   now() - make_interval(mins => (i * 37) % 576000) AS created_at
            FROM generate_series(1, @n) AS i, words w
            """);
        await Execute("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT p.name,
                   -- The shop spells phones many ways; normalized_phone is their E.164 form.
                   CASE j % 3 WHEN 0 THEN p.phone
                              WHEN 1 THEN '8' || substr(p.phone, 3)
                              ELSE '+7 ' || substr(p.phone, 3, 3) || ' ' || substr(p.phone, 6, 3) || ' '
                                   || substr(p.phone, 9, 2) || ' ' || substr(p.phone, 11, 2) END,
                   p.phone, p.email, p.city, p.address,
                   500 + (p.i * 31 + j * 97) % 40000 + 0.50,
                   CASE WHEN (p.i + j) % 4 = 0 THEN (ARRAY['new','processing','cancelled'])[1 + (p.i + j) % 3]
                        ELSE 'completed' END,
                   now() - make_interval(days => (p.i * 17 + j * 29) % 400, mins => p.i % 1440),
                   now() - make_interval(days => (p.i * 17 + j * 29) % 400, mins => p.i % 1440)
            FROM seed_people p, generate_series(1, (p.i * 13) % 7) AS j
            """);
        await Execute($"""
            INSERT INTO customers (name, phone, email, city, address, total_orders, total_spent, average_order,
                                   last_order_date, category, created_at, updated_at)
            SELECT p.name, p.phone, p.email, p.city, p.address,
                   coalesce(s.total_orders, 0), coalesce(s.total_spent, 0),
                   coalesce(round(s.total_spent / s.total_orders, 2), 0), s.last_order_date,
                   {CategoryRules.Sql("coalesce(s.total_orders, 0)", "coalesce(s.total_spent, 0)", "s.last_order_date")},
                   p.created_at, p.created_at
            FROM seed_people p
            LEFT JOIN (SELECT normalized_phone AS phone, count(*)::int AS total_orders,
                              sum(total_amount) AS total_spent, max(created_at) AS last_order_date
                       FROM orders WHERE status = 'completed' GROUP BY normalized_phone) s ON s.phone = p.phone
            ORDER BY p.i
            """);
        // One statement per command: VACUUM refuses to run inside a batch.
        foreach (var table in new[] { "customers", "orders" })
        {
            await using var vacuum = new NpgsqlCommand($"VACUUM ANALYZE {table}", connection) { CommandTimeout = 0 };
            await vacuum.ExecuteNonQueryAsync();
        }
        return stopwatch.Elapsed;
    }

    // Customers spread over the whole table, for the burst.
    public async Task<List<BurstCustomer>> BurstCustomersAsync(int count)
    {
        var total = await ScalarAsync<long>("SELECT count(*) FROM customers");
        await using var command = DataSource.CreateCommand("""
            SELECT id, name, phone, email, city FROM customers
            WHERE id % @step = 0 ORDER BY id LIMIT @count
            """);
        command.Parameters.AddWithValue("step", Math.Max(1, total / count));
        command.Parameters.AddWithValue("count", count);
        var list = new List<BurstCustomer>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            list.Add(new BurstCustomer(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        return list;
    }

    // How many of these customers' statistics and category differ from their completed
    // orders right now (0 = all exact). The same rules as the sync engine, in one query.
    public async Task<long> StaleCustomersAsync(string[] phones)
    {
        await using var command = DataSource.CreateCommand($"""
            WITH s AS (
                SELECT p.phone,
                       count(o.id) FILTER (WHERE o.status = 'completed')::int AS total_orders,
                       coalesce(sum(o.total_amount) FILTER (WHERE o.status = 'completed'), 0) AS total_spent,
                       max(o.created_at) FILTER (WHERE o.status = 'completed') AS last_order_date
                FROM unnest(@phones) AS p(phone)
                LEFT JOIN orders o ON o.normalized_phone = p.phone
                GROUP BY p.phone
            )
            SELECT count(*)
            FROM s LEFT JOIN customers c ON c.phone = s.phone
            WHERE c.id IS NULL
               OR (c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category)
                  IS DISTINCT FROM
                  (s.total_orders, s.total_spent,
                   CASE WHEN s.total_orders = 0 THEN 0 ELSE round(s.total_spent / s.total_orders, 2) END,
                   s.last_order_date,
                   {CategoryRules.Sql("s.total_orders", "s.total_spent", "s.last_order_date")})
            """);
        command.Parameters.AddWithValue("phones", phones);
        CategoryRules.AddParameters(command, new CategoryOptions(), DateTime.UtcNow);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // The next transaction id: its growth counts the write transactions (each one a WAL
    // flush at commit with fsync on) that happened meanwhile, without waiting for statistics.
    public Task<long> NextXidAsync() =>
        ScalarAsync<long>("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint");

    // The floor under every write endpoint: the latency of committing one small row, one
    // transaction at a time (a WAL flush each, with fsync and synchronous_commit on).
    public async Task<List<double>> CommitLatenciesAsync(int count)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, at timestamptz)", connection))
            await create.ExecuteNonQueryAsync();
        var latencies = new List<double>();
        await using var insert = new NpgsqlCommand("INSERT INTO bench_commit_probe (at) VALUES (now())", connection);
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await insert.ExecuteNonQueryAsync();
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        await using (var drop = new NpgsqlCommand("DROP TABLE bench_commit_probe", connection))
            await drop.ExecuteNonQueryAsync();
        return latencies;
    }

    public Task<long> MaxJobIdAsync() => ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM hangfire.job");

    public Task<long> UnfinishedJobsAsync() =>
        ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename IN ('Enqueued', 'Processing')");

    // Waits until no job is queued or running and none has been created for `quiet`: a
    // request still in flight when wrk stops may enqueue one more job a moment later.
    // False (and the jobs that are stuck) when that does not happen within `timeout`.
    public async Task<(bool Idle, TimeSpan Waited, List<string> Stuck)> WaitForIdleJobsAsync(TimeSpan timeout, TimeSpan? quiet = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var quietFor = quiet ?? TimeSpan.Zero;
        var lastId = await MaxJobIdAsync();
        var quietSince = stopwatch.Elapsed;
        while (stopwatch.Elapsed < timeout)
        {
            var maxId = await MaxJobIdAsync();
            if (maxId != lastId)
            {
                lastId = maxId;
                quietSince = stopwatch.Elapsed;
            }
            if (await UnfinishedJobsAsync() == 0 && stopwatch.Elapsed - quietSince >= quietFor)
                return (true, stopwatch.Elapsed, []);
            await Task.Delay(100);
        }
        var stuck = await LinesAsync("""
            SELECT j.id || ' ' || j.statename || ' ' || (j.invocationdata->>'Method') || ' created ' || j.createdat
                   || coalesce(' queue ' || q.queue || ' fetched ' || coalesce(q.fetchedat::text, 'never'), '')
            FROM hangfire.job j LEFT JOIN hangfire.jobqueue q ON q.jobid = j.id
            WHERE j.statename IN ('Enqueued', 'Processing') ORDER BY j.id LIMIT 10
            """);
        return (false, stopwatch.Elapsed, stuck);
    }

    // Jobs created after `afterId`, by state name.
    public async Task<Dictionary<string, long>> JobStatesAsync(long afterId)
    {
        await using var command = DataSource.CreateCommand(
            "SELECT coalesce(statename, '(none)'), count(*) FROM hangfire.job WHERE id > @after GROUP BY 1");
        command.Parameters.AddWithValue("after", afterId);
        var states = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            states[reader.GetString(0)] = reader.GetInt64(1);
        return states;
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default! : (T)result;
    }

    public async Task<List<string>> LinesAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            lines.Add(reader.GetValue(0)?.ToString() ?? "");
        return lines;
    }
}
