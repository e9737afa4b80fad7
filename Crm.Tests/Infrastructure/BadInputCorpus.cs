// Over 400 lines: one table of cases, one per malformed request, read as a whole.
using System.Text;

namespace Crm.Tests.Infrastructure;

// The corpus: malformed requests across every route of the API, each with the status it
// must get. All of them must leave the database exactly as it was (no row written, no job
// enqueued), answer in problem details (or a 2xx where that is correct), and never show a
// stack trace or an exception type.
public static partial class BadInputCorpus
{
    private const string Json = "application/json";
    private const string Ndjson = "application/x-ndjson";
    private const string Csv = "text/csv";

    private const string ValidCustomer = """{"name":"Иван Петров","phone":"+7 999 111 22 33"}""";
    private const string ValidOrder = """{"customerName":"Иван","customerPhone":"+79991112233","totalAmount":10,"status":"completed"}""";
    private const string ValidNote = """{"note":"Перезвонить"}""";
    private const string CsvHeader = "customerName,customerPhone,totalAmount,status,createdAt\n";

    private static readonly string Emoji = "😀";
    private static readonly string EmojiInUrl = Uri.EscapeDataString("😀");
    private static readonly string DeepArray = new string('[', 100) + new string(']', 100);
    private static readonly string OverOneMegabyte = new('я', 600_000); // 1.2 MB in UTF-8

    // "Иван" in Windows-1251 between two UTF-8 texts.
    private static string NotUtf8(string before, string after) =>
        "base64:" + Convert.ToBase64String([.. Encoding.UTF8.GetBytes(before), 0xC8, 0xE2, 0xE0, 0xED, .. Encoding.UTF8.GetBytes(after)]);

    public static IEnumerable<MalformedRequest> All()
    {
        var cases = new List<MalformedRequest>();
        void Add(string method, string path, string? contentType, string? body, int status, string what,
            int rejected = -1, int errors = -1, string? ifMatch = null) =>
            cases.Add(new MalformedRequest(method, path, contentType, body, status, what, rejected, errors, ifMatch));
        void Get(string path, int status, string what) => Add("GET", path, null, null, status, what);

        // ---- Route ids that are not ids, or ids of nothing (every route with an {id}) ----
        Get("/api/customers/1e400", 400, "exponent id");
        Get("/api/customers/-1", 404, "negative id");
        Get("/api/customers/9223372036854775807", 404, "largest id, no such customer");
        Get("/api/customers/9223372036854775808", 400, "id one past long");
        Get($"/api/customers/{EmojiInUrl}", 400, "emoji id");
        Get("/api/customers/1%20OR%201=1", 400, "SQL in the id");
        Add("DELETE", "/api/customers/-1", null, null, 404, "delete negative id");
        Add("DELETE", "/api/customers/0", null, null, 404, "delete id zero");
        Add("DELETE", "/api/customers/1e400", null, null, 400, "delete exponent id");
        Add("DELETE", "/api/customers/9223372036854775808", null, null, 400, "delete overflowing id");
        Add("PUT", "/api/customers/-1", Json, ValidCustomer, 404, "replace unknown customer");
        Add("PUT", "/api/customers/1e400", Json, ValidCustomer, 400, "replace exponent id");
        Add("PATCH", "/api/customers/-1", Json, """{"city":"Тверь"}""", 404, "patch unknown customer");
        Add("PATCH", "/api/customers/1e400", Json, """{"city":"Тверь"}""", 400, "patch exponent id");
        Get("/api/customers/abc/orders", 400, "orders of a non-numeric id");
        Get("/api/customers/-1/orders", 404, "orders of an unknown customer");
        Get("/api/customers/99999999999999999999/orders", 400, "orders of an overflowing id");
        Add("POST", "/api/customers/abc/update-stats", null, null, 400, "update-stats of a non-numeric id");
        Add("POST", "/api/customers/-1/update-stats", null, null, 404, "update-stats of an unknown customer enqueues nothing");
        Add("POST", "/api/customers/0/update-stats", null, null, 404, "update-stats of id zero enqueues nothing");
        Add("POST", "/api/customers/99999999999999999999/update-stats", null, null, 400, "update-stats of an overflowing id");
        Add("POST", "/api/customers/1e400/update-stats", null, null, 400, "update-stats of an exponent id");
        Get("/api/customers/-1/notes", 404, "notes of an unknown customer");
        Get("/api/customers/1e400/notes", 400, "notes of an exponent id");
        Get("/api/customers/9223372036854775808/notes", 400, "notes of an overflowing id");
        Add("POST", "/api/customers/-1/notes", Json, ValidNote, 404, "note for an unknown customer");
        Add("POST", "/api/customers/9223372036854775807/notes", Json, ValidNote, 404, "note for the largest id");
        Get("/api/orders/abc", 400, "non-numeric order id");
        Get("/api/orders/-1", 404, "negative order id");
        Get("/api/orders/1e400", 400, "exponent order id");
        Get("/api/orders/99999999999999999999", 400, "overflowing order id");
        Get("/api/orders/0x10", 400, "hex order id");
        Get($"/api/orders/{EmojiInUrl}", 400, "emoji order id");
        Add("PATCH", "/api/orders/abc", Json, """{"status":"completed"}""", 400, "patch a non-numeric order id");
        Add("PATCH", "/api/orders/-1", Json, """{"status":"completed"}""", 404, "patch an unknown order");
        Add("PATCH", "/api/orders/99999999999999999999", Json, """{"status":"completed"}""", 400, "patch an overflowing order id");
        Get("/api/jobs/abc", 404, "non-numeric job id");
        Get("/api/jobs/-1", 404, "negative job id");
        Get("/api/jobs/0", 404, "job id zero");
        Get("/api/jobs/99999999999999999999", 404, "overflowing job id");
        Get("/api/jobs/1e400", 404, "exponent job id");
        Get("/api/jobs/9223372036854775807", 404, "largest job id");
        Get($"/api/jobs/{EmojiInUrl}", 404, "emoji job id");
        Get("/api/jobs/1%27%20OR%20%271%27=%271", 404, "SQL in the job id");
        Get("/api/jobs/" + new string('7', 5000), 404, "5000-digit job id");

        // ---- Query strings ----
        Get("/api/customers?page=1e400", 400, "exponent page");
        Get("/api/customers?pageSize=-1", 400, "negative page size");
        Get("/api/customers?pageSize=99999999999999999999", 400, "overflowing page size");
        Get("/api/customers?page=1000001", 400, "page past the bound");
        Get("/api/customers?category=%00", 400, "NUL category");
        Get("/api/customers?category=new%0A", 400, "category with a line break");
        Get("/api/customers?category=vip&category=gold", 400, "a second category unknown");
        Get("/api/customers?city=%00", 400, "NUL city");
        Get("/api/customers?minSpent=abc", 400, "a text minimum spent");
        Get("/api/customers?minSpent=1e400", 400, "an overflowing minimum spent");
        Get("/api/customers?maxSpent=-0.01", 400, "a negative maximum spent");
        Get("/api/customers?minOrders=99999999999", 400, "an overflowing minimum of orders");
        Get("/api/customers?minOrders=3&maxOrders=2", 400, "fewer orders at most than at least");
        Get("/api/customers?lastOrderFrom=31.12.2026", 400, "a last-order bound not ISO 8601");
        Get("/api/customers?createdTo=2026-02-30", 400, "a creation bound that is no day");
        Get("/api/customers?ordering=name;DROP%20TABLE%20customers", 400, "SQL in the ordering");
        Get($"/api/customers?ordering=-{EmojiInUrl}", 400, "emoji ordering");
        Get("/api/customers?search=" + new string('и', 201), 400, "201-character search");
        Get("/api/customers?search=%00", 400, "NUL search");
        Get("/api/customers?search=abc%07", 400, "bell in the search");
        Get($"/api/customers?search={EmojiInUrl}", 200, "emoji search finds nothing");
        Get("/api/customers?search=%25", 200, "LIKE wildcard search");
        Get("/api/customers?search=%5C", 200, "backslash search (the LIKE escape)");
        Get("/api/customers?search=%27%20OR%201%3D1%20--", 200, "SQL in the search");
        Get("/api/customers?search=%ED%A0%80", 200, "search that is not UTF-8");
        Get("/api/customers/{customer}/orders?page=0", 400, "customer orders page zero");
        Get("/api/customers/{customer}/orders?pageSize=201", 400, "customer orders page size over the bound");
        Get("/api/customers/{customer}/orders?page=abc", 400, "customer orders text page");
        Get("/api/customers/{customer}/orders?pageSize=1e400", 400, "customer orders exponent page size");
        Get("/api/customers/{customer}/orders?page=99999999999999999999", 400, "customer orders overflowing page");
        Get($"/api/orders?phone={EmojiInUrl}{EmojiInUrl}{EmojiInUrl}", 400, "emoji phone filter");
        Get("/api/orders?phone=%00", 400, "NUL phone filter");
        Get("/api/orders?phone=" + new string('9', 60), 400, "60-digit phone filter");
        Get("/api/orders?phone=abc", 400, "letters as the phone filter");
        Get("/api/orders?status=COMPLETED", 400, "status filter in capitals");
        Get("/api/orders?status=%00", 400, "NUL status filter");
        Get("/api/orders?page=-1", 400, "negative orders page");
        Get("/api/orders?page=1e400", 400, "exponent orders page");
        Get("/api/orders?pageSize=0", 400, "orders page size zero");
        Get("/api/orders?pageSize=99999999999999999999", 400, "overflowing orders page size");
        Get("/api/sync/runs?page=0", 400, "runs page zero");
        Get("/api/sync/runs?page=-1", 400, "negative runs page");
        Get("/api/sync/runs?pageSize=0", 400, "runs page size zero");
        Get("/api/sync/runs?pageSize=201", 400, "runs page size over the bound");
        Get("/api/sync/runs?page=1e400", 400, "exponent runs page");
        Get("/api/sync/runs?pageSize=abc", 400, "text runs page size");
        Get("/api/sync/runs?page=99999999999999999999", 400, "overflowing runs page");
        Get("/api/sync/errors?page=0", 400, "sync errors page zero");
        Get("/api/sync/errors?pageSize=201", 400, "sync errors page size over the bound");
        Get("/api/sync/errors?pageSize=abc", 400, "text sync errors page size");
        Get("/api/sync/runs/{run}/changes?page=0", 400, "run changes page zero");
        Get("/api/sync/runs/{run}/changes?pageSize=201", 400, "run changes page size over the bound");
        Get("/api/sync/runs/{run}/changes?page=abc", 400, "text run changes page");
        Get("/api/sync/runs/{run}/changes?pageSize=1e400", 400, "exponent run changes page size");
        Get("/api/sync/runs/{run}/changes?count=maybe", 400, "run changes with an unknown count");
        Get("/api/sync/runs/{run}/changes?field=password", 400, "run changes of an unknown field");
        Get("/api/sync/runs/{run}/changes?field=Email", 400, "run changes field in capitals");
        Get("/api/sync/runs/{run}/changes?field=%00", 400, "NUL run changes field");
        Get("/api/sync/runs/{run}/changes?field=email%3BDROP%20TABLE%20customer_changes", 400, "SQL in the run changes field");
        Get("/api/sync/runs/abc/changes", 400, "changes of a non-numeric run id");
        Get("/api/sync/runs/1e400/changes", 400, "changes of an exponent run id");
        Get("/api/sync/runs/99999999999999999999/changes", 400, "changes of an overflowing run id");
        Get("/api/sync/runs/-1/changes", 404, "changes of an unknown run");

        // ---- Customers: create ----
        Add("POST", "/api/customers", Json, "null", 400, "JSON null body");
        Add("POST", "/api/customers", Json, $$"""{"name":{{DeepArray}},"phone":"+79991112233"}""", 400, "nesting 100 deep");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233",}""", 400, "trailing comma");
        Add("POST", "/api/customers", Json, """{"name":"Иван",/* comment */"phone":"+79991112233"}""", 400, "comment in JSON");
        Add("POST", "/api/customers", Json, """{'name':'Иван','phone':'+79991112233'}""", 400, "single quotes");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":NaN}""", 400, "NaN phone");
        Add("POST", "/api/customers", Json, """{"name":"\uD800","phone":"+79991112233"}""", 400, "lone surrogate in the name");
        Add("POST", "/api/customers", Json, NotUtf8("{\"name\":\"", "\",\"phone\":\"+79991112233\"}"),
            400, "body that is not UTF-8");
        Add("POST", "/api/customers", Json, $$"""{"name":"{{new string('я', 100_000)}}","phone":"+79991112233"}""", 400, "100 000-character name");
        Add("POST", "/api/customers", Json, $$"""{"name":"Иван","phone":"{{Emoji}}{{Emoji}}{{Emoji}}"}""", 400, "phone of emoji only");
        Add("POST", "/api/customers", Json, $$"""{"name":"Иван","phone":"+7 999 {{Emoji}} 111 22 33"}""", 400, "emoji inside the phone");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":{"number":"+79991112233"}}""", 400, "object for the phone");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":1e400}""", 400, "overflowing number for the phone");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"-1"}""", 400, "phone -1");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"99999999999999999999"}""", 400, "20-digit phone");
        Add("POST", "/api/customers", Json, """{"name":"\u0085Иван","phone":"+79991112233"}""", 400, "C1 control character in the name");
        Add("POST", "/api/customers", Json, """{"name":"\t","phone":"+79991112233"}""", 400, "tab as the name");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233","email":"ivan@example.com\r\nBcc: x@y.z"}""", 400, "header injection in the email");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233","id":1}""", 400, "id sent");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233","version":5}""", 400, "row version sent");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233","searchText":"x"}""", 400, "search column sent");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233","customerNotes":[]}""", 400, "navigation property sent");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233","lastOrderDate":"2026-01-01T00:00:00Z"}""", 400, "last order date sent");
        Add("POST", "/api/customers", Json, """{"name":"Иван","phone":"8 (999) 000-00-02"}""", 409, "another spelling of a taken phone");
        Add("POST", "/api/customers", "application/xml", "<customer><name>Иван</name></customer>", 415, "XML");
        Add("POST", "/api/customers", "application/x-www-form-urlencoded", "name=Ivan&phone=%2B79991112233", 415, "form");
        Add("POST", "/api/customers", "multipart/form-data; boundary=x", "--x\r\n\r\n--x--", 415, "multipart");
        Add("POST", "/api/customers", "text/json", ValidCustomer, 415, "text/json");
        Add("POST", "/api/customers", null, ValidCustomer, 415, "no content type");
        Add("POST", "/api/customers", Json, $$"""{"name":"Иван","phone":"+79991112233","notes":"{{OverOneMegabyte}}"}""", 413, "body over 1 MB");

        // ---- Customers: replace and change ----
        Add("PUT", "/api/customers/{customer}", Json, """{"city":"Тверь"}""", 400, "replace without name and phone");
        Add("PUT", "/api/customers/{customer}", Json, """{"name":"Иван","phone":"+79990000001","category":"vip"}""", 400, "replace with a category");
        Add("PUT", "/api/customers/{customer}", Json, """{"name":"Иван","phone":"+79990000001","totalOrders":99999999999999999999}""", 400, "replace with an overflowing total");
        Add("PUT", "/api/customers/{customer}", Json, """{"name":"Иван","phone":"+79990000001""", 400, "replace with truncated JSON");
        Add("PUT", "/api/customers/{customer}", Json, "[]", 400, "replace with an array");
        Add("PUT", "/api/customers/{customer}", Json, $$"""{"name":"Иван","phone":"{{Emoji}}"}""", 400, "replace with an emoji phone");
        Add("PUT", "/api/customers/{customer}", Json, """{"name":"Иван","phone":"+7 999 000 00 02"}""", 409, "replace with a taken phone");
        Add("PUT", "/api/customers/{customer}", Json, """{"name":"Иван","phone":"+79990000001"}""", 412, "replace with a stale If-Match", ifMatch: "\"1\"");
        Add("PUT", "/api/customers/{customer}", "text/plain", """{"name":"Иван","phone":"+79990000001"}""", 415, "replace as text/plain");
        Add("PATCH", "/api/customers/{customer}", Json, """{"notes":"a\u0000b"}""", 400, "NUL in the notes");
        Add("PATCH", "/api/customers/{customer}", Json, """{"address":"ул. \u0007Ленина"}""", 400, "bell in the address");
        Add("PATCH", "/api/customers/{customer}", Json, $$"""{"phone":"{{Emoji}}"}""", 400, "emoji phone");
        Add("PATCH", "/api/customers/{customer}", Json, """{"name":"   "}""", 400, "blank name");
        Add("PATCH", "/api/customers/{customer}", Json, """{"phone":"+7999000\n0001"}""", 400, "line break inside the phone");
        Add("PATCH", "/api/customers/{customer}", Json, """{"phone":"8 999 000 00 02"}""", 409, "a taken phone");
        Add("PATCH", "/api/customers/{customer}", Json, """{"createdAt":"2026-01-01T00:00:00Z"}""", 400, "created at sent");
        Add("PATCH", "/api/customers/{customer}", Json, """{"averageOrder":1e400}""", 400, "overflowing average order");
        Add("PATCH", "/api/customers/{customer}", Json, """{"id":2}""", 400, "id sent");
        Add("PATCH", "/api/customers/{customer}", Json, "null", 400, "JSON null");
        Add("PATCH", "/api/customers/{customer}", Json, "42", 400, "a number as the body");
        Add("PATCH", "/api/customers/{customer}", Json, """{"city":"Тверь""", 400, "truncated JSON");
        Add("PATCH", "/api/customers/{customer}", Json, $$"""{"city":"{{new string('г', 50_000)}}"}""", 400, "50 000-character city");
        Add("PATCH", "/api/customers/{customer}", Json, """{"city":"Тверь"}""", 412, "stale If-Match", ifMatch: "\"garbage\"");
        Add("PATCH", "/api/customers/{customer}", Json, """{"city":"Тверь"}""", 412, "weak If-Match", ifMatch: "W/\"1\"");
        Add("PATCH", "/api/customers/{customer}", "text/plain", """{"city":"Тверь"}""", 415, "text/plain");
        Add("PATCH", "/api/customers/{customer}", null, """{"city":"Тверь"}""", 415, "no content type");
        Add("PATCH", "/api/customers/{customer}", Json, $$"""{"notes":"{{OverOneMegabyte}}"}""", 413, "body over 1 MB");

        // ---- Customers: other phones ----
        Get("/api/customers/-1/phones", 404, "phones of an unknown customer");
        Get("/api/customers/1e400/phones", 400, "phones of an exponent id");
        Add("POST", "/api/customers/-1/phones", Json, """{"phone":"+79991112244"}""", 404, "phone for an unknown customer");
        Add("POST", "/api/customers/1e400/phones", Json, """{"phone":"+79991112244"}""", 400, "phone for an exponent id");
        Add("POST", "/api/customers/{customer}/phones", Json, """{"phone":""}""", 400, "empty phone");
        Add("POST", "/api/customers/{customer}/phones", Json, "{}", 400, "no phone");
        Add("POST", "/api/customers/{customer}/phones", Json, """{"phone":79991112244}""", 400, "number as the phone");
        Add("POST", "/api/customers/{customer}/phones", Json, """{"phone":"не телефон"}""", 400, "a phone that is no phone");
        Add("POST", "/api/customers/{customer}/phones", Json, """{"phone":"+79991112244\n+79991112255"}""", 400, "two phones on two lines");
        Add("POST", "/api/customers/{customer}/phones", Json, """{"phone":"+79991112244","customerId":2}""", 400, "customer id in the body");
        Add("POST", "/api/customers/{customer}/phones", Json, """{"phone":"+7999""", 400, "truncated JSON");
        Add("DELETE", "/api/customers/-1/phones/%2B79991112244", null, null, 404, "remove a phone of an unknown customer");
        Add("DELETE", "/api/customers/{customer}/phones/abc", null, null, 404, "remove a phone that is no phone");
        Add("DELETE", "/api/customers/{customer}/phones/%2B79991112299", null, null, 404, "remove a phone the customer does not have");

        // ---- Customers: merge preview ----
        Add("POST", "/api/customers/merge/preview", Json, "{}", 400, "merge preview without ids");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":"{customer}","sourceIds":["{customer}"]}""", 400, "merge preview of ids as strings");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":1,"sourceIds":[1]}""", 400, "merge preview of a customer into itself");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":1,"sourceIds":[2,2]}""", 400, "merge preview of a source twice");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":1,"sourceIds":[]}""", 400, "merge preview without sources");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":-1,"sourceIds":[2]}""", 400, "merge preview of a negative target");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":9223372036854775808,"sourceIds":[2]}""", 400, "merge preview of an overflowing id");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":987654321,"sourceIds":[987654322]}""", 404, "merge preview of unknown customers");
        Add("POST", "/api/customers/merge/preview", Json, """{"targetId":1,"sourceIds":[2],"dryRun":true}""", 400, "an unknown member");

        // ---- Customers: merge, merges, unmerge ----
        Add("POST", "/api/customers/merge", Json, "{}", 400, "merge without ids");
        Add("POST", "/api/customers/merge", Json, """{"targetId":1,"sourceIds":[1]}""", 400, "merge of a customer into itself");
        Add("POST", "/api/customers/merge", Json, """{"targetId":1,"sourceIds":[2,2]}""", 400, "merge of a source twice");
        Add("POST", "/api/customers/merge", Json, """{"targetId":"x","sourceIds":[2]}""", 400, "merge of a text target");
        Add("POST", "/api/customers/merge", Json, """{"targetId":987654321,"sourceIds":[987654322]}""", 404, "merge of unknown customers");
        Add("POST", "/api/customers/merge", Json, "[1,2]", 400, "merge body that is an array");
        Get("/api/customers/merges?page=0", 400, "merges page zero");
        Get("/api/customers/merges?pageSize=201", 400, "merges page size over the bound");
        Get("/api/customers/merges?page=abc", 400, "merges text page");
        Get("/api/customers/duplicates?page=0", 400, "duplicates page zero");
        Get("/api/customers/duplicates?pageSize=201", 400, "duplicates page size over the bound");
        Add("POST", "/api/customers/merges/abc/unmerge", null, null, 400, "unmerge of a non-numeric id");
        Add("POST", "/api/customers/merges/987654321/unmerge", null, null, 404, "unmerge of an unknown merge");
        Add("POST", "/api/customers/merges/99999999999999999999/unmerge", null, null, 400, "unmerge of an overflowing id");

        // ---- Customers: notes ----
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":""}""", 400, "empty note");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":null}""", 400, "null note");
        Add("POST", "/api/customers/{customer}/notes", Json, "{}", 400, "no note");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":"   "}""", 400, "blank note");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":123}""", 400, "number as the note");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":["a"]}""", 400, "array as the note");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":"ok","createdBy":"admin"}""", 400, "forged author");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":"ok","customerId":2}""", 400, "customer id in the body");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":"a\u0000b"}""", 400, "NUL in the note");
        Add("POST", "/api/customers/{customer}/notes", Json, $$"""{"note":"{{new string('n', 10_001)}}"}""", 400, "10 001-character note");
        Add("POST", "/api/customers/{customer}/notes", Json, """{"note":"ok""", 400, "truncated JSON");
        Add("POST", "/api/customers/{customer}/notes", "text/plain", "Перезвонить", 415, "plain text note");
        Add("POST", "/api/customers/{customer}/notes", null, ValidNote, 415, "no content type");

        // ---- Orders: create ----
        Add("POST", "/api/orders", Json, """{"totalAmount":1e400}""", 400, "overflowing amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":99999999999999999999}""", 400, "20-digit amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":-0.01}""", 400, "negative cent");
        Add("POST", "/api/orders", Json, """{"totalAmount":9999999999.999}""", 400, "three decimals at the top");
        Add("POST", "/api/orders", Json, """{"totalAmount":null}""", 400, "null amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":"NaN"}""", 400, "NaN amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":"Infinity"}""", 400, "infinite amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":true}""", 400, "boolean amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":[10]}""", 400, "array amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":{"value":10}}""", 400, "object amount");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"status":""}""", 400, "empty status");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"status":"1"}""", 400, "status number as text");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"status":["new"]}""", 400, "array status");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":"2026-13-01T00:00:00Z"}""", 400, "month 13");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":"2026-02-30T00:00:00Z"}""", 400, "30 February");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":"0001-01-01T00:00:00Z"}""", 400, "year 1");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":"9999-12-31T23:59:59Z"}""", 400, "year 9999");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":"2026-01-01T25:00:00Z"}""", 400, "hour 25");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":"2026-01-01T00:00:00+25:00"}""", 400, "offset +25:00");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":1700000000}""", 400, "Unix time as the date");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"createdAt":""}""", 400, "empty date");
        Add("POST", "/api/orders", Json, $$"""{"totalAmount":10,"customerPhone":"{{new string('9', 51)}}"}""", 400, "51-character phone");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"customerPhone":"+79991112233\u0000"}""", 400, "NUL in the phone");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"customerPhone":79991112233}""", 400, "number for the phone");
        Add("POST", "/api/orders", Json, $$"""{"totalAmount":10,"customerName":"{{new string('я', 201)}}"}""", 400, "201-character name");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"customerName":"Иван\nПетров"}""", 400, "line break in the name");
        Add("POST", "/api/orders", Json, $$"""{"totalAmount":10,"customerEmail":"{{new string('e', 250)}}@x.ru"}""", 400, "255-character email");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"customerEmail":"a@b.c\u0007"}""", 400, "bell in the email");
        Add("POST", "/api/orders", Json, $$"""{"totalAmount":10,"deliveryCity":"{{new string('c', 101)}}"}""", 400, "101-character city");
        Add("POST", "/api/orders", Json, $$"""{"totalAmount":10,"deliveryAddress":"{{new string('a', 501)}}"}""", 400, "501-character address");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"deliveryAddress":"ул. Мира\u0000"}""", 400, "NUL in the address");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"updatedAt":"2026-01-01T00:00:00Z"}""", 400, "updated at sent");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"previousCustomerSyncJobId":"1"}""", 400, "previous job id sent");
        Add("POST", "/api/orders", Json, """{"totalAmount":10,"customerId":1}""", 400, "customer id sent");
        Add("POST", "/api/orders", Json, """{"totalAmount":10""", 400, "truncated JSON");
        Add("POST", "/api/orders", Json, "[]", 400, "array body");
        Add("POST", "/api/orders", Json, "null", 400, "JSON null body");
        Add("POST", "/api/orders", Json, "\"order\"", 400, "string body");
        Add("POST", "/api/orders", Json, "", 400, "empty body");
        Add("POST", "/api/orders", "text/plain", ValidOrder, 415, "text/plain");
        Add("POST", "/api/orders", Ndjson, ValidOrder, 415, "NDJSON to the single-order route");
        Add("POST", "/api/orders", Csv, "totalAmount\n10\n", 415, "CSV to the single-order route");
        Add("POST", "/api/orders", null, ValidOrder, 415, "no content type");
        Add("POST", "/api/orders", Json, $$"""{"totalAmount":10,"deliveryAddress":"{{OverOneMegabyte}}"}""", 413, "body over 1 MB");

        // ---- Orders: change ----
        Add("PATCH", "/api/orders/{order}", Json, """{"totalAmount":-5}""", 400, "negative amount");
        Add("PATCH", "/api/orders/{order}", Json, """{"totalAmount":1e400}""", 400, "overflowing amount");
        Add("PATCH", "/api/orders/{order}", Json, """{"status":"shipped"}""", 400, "unknown status");
        Add("PATCH", "/api/orders/{order}", Json, """{"status":5}""", 400, "number as the status");
        Add("PATCH", "/api/orders/{order}", Json, """{"createdAt":"2099-01-01T00:00:00Z"}""", 400, "date in the future");
        Add("PATCH", "/api/orders/{order}", Json, """{"createdAt":"not a date"}""", 400, "text as the date");
        Add("PATCH", "/api/orders/{order}", Json, $$"""{"customerPhone":"{{new string('+', 51)}}"}""", 400, "51-character phone");
        Add("PATCH", "/api/orders/{order}", Json, """{"customerName":"a\u0000"}""", 400, "NUL in the name");
        Add("PATCH", "/api/orders/{order}", Json, """{"id":2}""", 400, "id sent");
        Add("PATCH", "/api/orders/{order}", Json, """{"normalizedPhone":"+79990000002"}""", 400, "normalised phone sent");
        Add("PATCH", "/api/orders/{order}", Json, """{"syncJobId":"1"}""", 400, "job id sent");
        Add("PATCH", "/api/orders/{order}", Json, """{"status":"completed""", 400, "truncated JSON");
        Add("PATCH", "/api/orders/{order}", Json, "[]", 400, "array body");
        Add("PATCH", "/api/orders/{order}", Json, "null", 400, "JSON null body");
        Add("PATCH", "/api/orders/{order}", "text/plain", """{"status":"completed"}""", 415, "text/plain");
        Add("PATCH", "/api/orders/{order}", null, """{"status":"completed"}""", 415, "no content type");

        // ---- Orders: import (200, every line rejected and reported, nothing lands) ----
        void Import(string contentType, string body, int rejected, int errors, string what) =>
            Add("POST", "/api/orders/import", contentType, body, 200, what, rejected, errors);
        Import(Ndjson, """{"customerName":"Иван","totalAmount":""", 1, 1, "NDJSON: truncated line");
        Import(Ndjson, """{"totalAmount":"ten"}""", 1, 1, "NDJSON: text amount");
        Import(Ndjson, """{"customerName":"Иван"}""", 1, 1, "NDJSON: no amount");
        Import(Ndjson, """{"totalAmount":1e400}""", 1, 1, "NDJSON: overflowing amount");
        Import(Ndjson, """{"totalAmount":99999999999999999999}""", 1, 1, "NDJSON: 20-digit amount");
        Import(Ndjson, """{"totalAmount":-1}""", 1, 1, "NDJSON: negative amount");
        Import(Ndjson, """{"totalAmount":10,"status":"shipped"}""", 1, 1, "NDJSON: unknown status");
        Import(Ndjson, """{"totalAmount":10,"status":2}""", 1, 1, "NDJSON: number as the status");
        Import(Ndjson, """{"totalAmount":10,"createdAt":"2026-02-30T00:00:00Z"}""", 1, 1, "NDJSON: 30 February");
        Import(Ndjson, """{"totalAmount":10,"createdAt":"2099-01-01T00:00:00Z"}""", 1, 1, "NDJSON: date in the future");
        Import(Ndjson, """{"totalAmount":10,"id":5}""", 1, 1, "NDJSON: id sent");
        Import(Ndjson, """{"totalAmount":10,"normalizedPhone":"+79991112233"}""", 1, 1, "NDJSON: normalised phone sent");
        Import(Ndjson, """{"totalAmount":10,"customerName":"a\u0000b"}""", 1, 1, "NDJSON: NUL in the name");
        Import(Ndjson, $$"""{"totalAmount":10,"customerName":"{{new string('я', 201)}}"}""", 1, 1, "NDJSON: 201-character name");
        Import(Ndjson, $$"""{"totalAmount":10,"customerPhone":"{{new string('9', 51)}}"}""", 1, 1, "NDJSON: 51-character phone");
        Import(Ndjson, """{"totalAmount":10,"customerPhone":79991112233}""", 1, 1, "NDJSON: number for the phone");
        Import(Ndjson, """{"totalAmount":10,"customerName":"\uDC00"}""", 1, 1, "NDJSON: lone surrogate");
        Import(Ndjson, $$"""{"totalAmount":10,"customerName":{{DeepArray}}}""", 1, 1, "NDJSON: nesting 100 deep");
        Import(Ndjson, "[]\nnull\n42\n\"text\"\n{}", 5, 5, "NDJSON: lines that are not order objects");
        Import(Ndjson, $$"""{"totalAmount":10,"customerName":"{{new string('я', 70_000)}}"}""", 1, 1, "NDJSON: line over 64 KiB");
        Import(Ndjson, "{\"totalAmount\":-1}\n\n{\"totalAmount\":-2}\n   \n{\"totalAmount\":-3}\n", 3, 3, "NDJSON: bad lines between blank ones");
        Import(Ndjson, "{\"totalAmount\":\"x\"}\r\n{\"status\":\"new\"}\r\n", 2, 2, "NDJSON: bad CRLF lines");
        Import(Ndjson, string.Join('\n', Enumerable.Range(1, 150).Select(i => $$"""{"totalAmount":-{{i}}}""")), 150, 100, "NDJSON: 150 bad lines, first 100 reported");
        Import(Csv, "customerName,customerPhone\nИван,+79991112233\n", 0, 1, "CSV: header without totalAmount");
        Import(Csv, "customerName,totalAmount,password\nИван,10,x\n", 0, 1, "CSV: unknown column");
        Import(Csv, "totalAmount,total_amount\n10,10\n", 0, 1, "CSV: duplicate column");
        Import(Csv, "customerName,,totalAmount\nИван,x,10\n", 0, 1, "CSV: nameless column");
        Import(Csv, "\"customerName,totalAmount\n", 0, 1, "CSV: unterminated quote in the header");
        Import(Csv, CsvHeader + "Иван,+79991112233,10\nИван,+79991112233,10,completed,2026-01-01T00:00:00Z,extra\n", 2, 2, "CSV: wrong field counts");
        Import(Csv, CsvHeader + "\"Иван,+79991112233,10,completed,\n", 1, 1, "CSV: unterminated quote");
        Import(Csv, CsvHeader + "\"Иван\"x,+79991112233,10,completed,\n", 1, 1, "CSV: text after the closing quote");
        Import(Csv, CsvHeader + "Иван,+79991112233,abc,completed,\n", 1, 1, "CSV: text amount");
        Import(Csv, CsvHeader + "Иван,+79991112233,1e400,completed,\n", 1, 1, "CSV: exponent amount");
        Import(Csv, CsvHeader + "Иван,+79991112233,99999999999999999999,completed,\n", 1, 1, "CSV: 20-digit amount");
        Import(Csv, CsvHeader + "Иван,+79991112233,-5,completed,\n", 1, 1, "CSV: negative amount");
        Import(Csv, CsvHeader + "Иван,+79991112233,\"1,5\",completed,\n", 1, 1, "CSV: decimal comma");
        Import(Csv, CsvHeader + "Иван,+79991112233,,completed,\n", 1, 1, "CSV: empty amount");
        Import(Csv, CsvHeader + "Иван,+79991112233,10,Completed,\n", 1, 1, "CSV: status in another case");
        Import(Csv, CsvHeader + "Иван,+79991112233,10,shipped,\n", 1, 1, "CSV: unknown status");
        Import(Csv, CsvHeader + "Иван,+79991112233,10,completed,01/02/2026\n", 1, 1, "CSV: ambiguous date");
        Import(Csv, CsvHeader + "Иван,+79991112233,10,completed,2026-02-30T00:00:00Z\n", 1, 1, "CSV: 30 February");
        Import(Csv, CsvHeader + "Иван,+79991112233,10,completed,2099-01-01T00:00:00Z\n", 1, 1, "CSV: date in the future");
        Import(Csv, CsvHeader + "Ив\u0007ан,+79991112233,10,completed,\n", 1, 1, "CSV: bell in the name");
        Import(Csv, CsvHeader + $"Иван,{new string('9', 51)},10,completed,\n", 1, 1, "CSV: 51-character phone");
        Add("POST", "/api/orders/import", Csv, NotUtf8("totalAmount,customerName\n10,\"", "\"\n"),
            400, "CSV that is not UTF-8");
        Add("POST", "/api/orders/import", Ndjson, "base64:" + Convert.ToBase64String(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(ValidOrder)).ToArray()),
            400, "NDJSON in UTF-16");
        Add("POST", "/api/orders/import", "text/plain", ValidOrder, 415, "import as text/plain");
        Add("POST", "/api/orders/import", "application/xml", "<orders/>", 415, "import as XML");
        Add("POST", "/api/orders/import", "multipart/form-data; boundary=x", "--x\r\n\r\n--x--", 415, "import as multipart");
        Add("POST", "/api/orders/import", null, ValidOrder, 415, "import without a content type");

        // ---- Sync ----
        Add("POST", "/api/sync", Json, """{"mode":"auto"}""", 400, "auto mode (jobs only)");
        Add("POST", "/api/sync", Json, """{"mode":"full"}""", 400, "unknown mode");
        Add("POST", "/api/sync", Json, """{"mode":1}""", 400, "number as the mode");
        Add("POST", "/api/sync", Json, """{"mode":["default"]}""", 400, "array as the mode");
        Add("POST", "/api/sync", Json, """{"mode":""}""", 400, "empty mode");
        Add("POST", "/api/sync", Json, """{"mode":"default\u0000"}""", 400, "NUL after the mode");
        Add("POST", "/api/sync", Json, """{"mode":"force","dry":true}""", 400, "unknown flag");
        Add("POST", "/api/sync", Json, """{"mode":"default","dryRun":"yes"}""", 400, "text as the dry-run flag");
        Add("POST", "/api/sync", Json, """{"mode":"default","dryRun":"true"}""", 400, "dry-run flag as text");
        Add("POST", "/api/sync", Json, """{"mode":"default","dryRun":1}""", 400, "number as the dry-run flag");
        Add("POST", "/api/sync", Json, """{"mode":"default","dryRun":null}""", 400, "null dry-run flag");
        Add("POST", "/api/sync", Json, """{"mode":"default","dryRun":[true]}""", 400, "array as the dry-run flag");
        Add("POST", "/api/sync", Json, """{"dryRun":true}""", 400, "dry run without a mode");
        Add("POST", "/api/sync", Json, """{"mode":"auto","dryRun":true}""", 400, "dry run of the auto mode");
        Add("POST", "/api/sync", Json, "[]", 400, "array body");
        Add("POST", "/api/sync", Json, "null", 400, "JSON null body");
        Add("POST", "/api/sync", Json, """{"mode":"default""", 400, "truncated JSON");
        Add("POST", "/api/sync", Json, "", 400, "empty body");
        Add("POST", "/api/sync", "text/plain", """{"mode":"default"}""", 415, "text/plain");
        Add("POST", "/api/sync", null, """{"mode":"default"}""", 415, "no content type");

        // ---- Sync: revert a run (admin) ----
        Add("POST", "/api/sync/runs/abc/revert", null, null, 400, "revert of a non-numeric run id");
        Add("POST", "/api/sync/runs/1e400/revert", null, null, 400, "revert of an exponent run id");
        Add("POST", "/api/sync/runs/99999999999999999999/revert", null, null, 400, "revert of an overflowing run id");
        Add("POST", $"/api/sync/runs/{EmojiInUrl}/revert", null, null, 400, "revert of an emoji run id");
        Add("POST", "/api/sync/runs/-1/revert", null, null, 404, "revert of an unknown run enqueues nothing");
        Add("POST", "/api/sync/runs/9223372036854775807/revert", null, null, 404, "revert of the largest run id enqueues nothing");
        Add("POST", "/api/sync/runs/{dryRun}/revert", null, null, 409, "revert of a dry run enqueues nothing");
        Add("POST", "/api/sync/runs/{revertedRun}/revert", null, null, 409, "revert of a run already reverted enqueues nothing");

        // ---- The original Django CRM's routes (trailing slashes, a wait in seconds) ----
        Add("POST", "/api/customers/sync_from_orders/?wait=-1", null, null, 400, "sync_from_orders with a negative wait");
        Add("POST", "/api/customers/sync_from_orders/?wait=301", null, null, 400, "sync_from_orders with a wait over the bound");
        Add("POST", "/api/customers/sync_from_orders/?wait=abc", null, null, 400, "sync_from_orders with a text wait");
        Add("POST", "/api/customers/sync_from_orders/?wait=1e400", null, null, 400, "sync_from_orders with an exponent wait");
        Add("POST", "/api/customers/sync_from_orders?wait=99999999999999999999", null, null, 400, "sync_from_orders with an overflowing wait");
        Get("/api/customers/abc/orders_history/", 400, "orders_history of a non-numeric id");
        Get("/api/customers/-1/orders_history/", 404, "orders_history of an unknown customer");
        Get("/api/customers/99999999999999999999/orders_history/", 400, "orders_history of an overflowing id");
        Add("POST", "/api/customers/abc/update_stats/", null, null, 400, "update_stats of a non-numeric id");
        Add("POST", "/api/customers/-1/update_stats/", null, null, 404, "update_stats of an unknown customer enqueues nothing");
        Add("POST", "/api/customers/{customer}/update_stats/?wait=-1", null, null, 400, "update_stats with a negative wait enqueues nothing");
        Add("POST", "/api/customers/{customer}/update_stats/?wait=%00", null, null, 400, "update_stats with a NUL wait");
        Get("/api/customers/sync_from_orders/", 400, "GET on sync_from_orders is the customer route with a bad id");

        // ---- Wrong methods and unknown routes (each route's neighbours) ----
        Add("GET", "/api/sync", null, null, 405, "GET on the sync trigger");
        Add("DELETE", "/api/sync/runs", null, null, 405, "deleting the sync history");
        Add("DELETE", "/api/sync/runs/{run}/changes", null, null, 405, "deleting a run's changes");
        Add("GET", "/api/sync/runs/{run}/revert", null, null, 405, "GET on the revert");
        Add("PATCH", "/api/jobs/1", Json, "{}", 405, "patching a job");
        Add("DELETE", "/api/jobs/1", null, null, 405, "deleting a job");
        Get("/api/categories?category=%00", 200, "categories ignore an unknown NUL parameter");
        Get("/api/categories?page=-1&pageSize=1e400", 200, "categories ignore paging they do not have");
        Get($"/api/categories?{EmojiInUrl}={EmojiInUrl}", 200, "categories ignore an emoji parameter");
        Add("POST", "/api/categories", Json, "{}", 405, "posting a category");
        // The recalculation reads no input; only a body over the limit is refused before it enqueues.
        Add("POST", "/api/categories/recalculate", Json, $$"""{"force":"{{OverOneMegabyte}}"}""", 413, "recalculation with a body over 1 MB");
        Add("POST", "/api/categories/recalculate", "text/plain", OverOneMegabyte, 413, "recalculation with a text body over 1 MB");
        Add("DELETE", "/api/categories", null, null, 405, "deleting categories");
        Add("GET", "/api/categories/recalculate", null, null, 405, "GET on the recalculation trigger");
        Add("POST", "/api/categories/recalculate/now", null, null, 404, "unknown route under the recalculation");
        Get("/api/shop?state=%00", 200, "the shop's state ignores an unknown NUL parameter");
        Get("/api/shop?page=-1&pageSize=1e400", 200, "the shop's state ignores paging it does not have");
        Get($"/api/shop?{EmojiInUrl}={EmojiInUrl}", 200, "the shop's state ignores an emoji parameter");
        Add("POST", "/api/shop", Json, "{}", 405, "posting the shop's state");
        Add("DELETE", "/api/shop", null, null, 405, "deleting the shop's state");
        Get("/api/shop/rejections?page=0", 400, "shop rejections page zero");
        Get("/api/shop/rejections?pageSize=201", 400, "shop rejections page size over the bound");
        Get("/api/shop/rejections?pageSize=abc", 400, "text shop rejections page size");
        Get("/api/shop/rejections?count=maybe", 400, "shop rejections with an unknown count");
        Add("DELETE", "/api/shop/rejections", null, null, 405, "deleting the shop's rejections");
        Add("PUT", "/api/orders/{order}", Json, ValidOrder, 405, "replacing an order");
        Add("DELETE", "/api/orders/{order}", null, null, 405, "deleting an order");
        Add("POST", "/api/orders/{order}/notes", Json, ValidNote, 404, "notes on an order");
        Add("POST", "/api/customers/{customer}", Json, ValidCustomer, 405, "posting to a customer");
        Add("GET", "/api/customers/{customer}/update-stats", null, null, 405, "GET on update-stats");
        Add("DELETE", "/api/customers/{customer}/notes", null, null, 405, "deleting all notes");
        Add("GET", "/api/customers/{customer}/unknown", null, null, 404, "unknown customer sub-route");
        Add("GET", "/api/orders/import", null, null, 400, "GET on the import is the order route with a bad id");
        cases.AddRange(TimelineAndPreview());
        cases.AddRange(WebhookRequests());
        cases.AddRange(PrivacyRequests());
        cases.AddRange(SegmentRequests());
        return cases;
    }

    // The customer timeline and the category what-if.
    private static IEnumerable<MalformedRequest> TimelineAndPreview()
    {
        var cases = new List<MalformedRequest>();
        void Get(string path, int status, string what) => cases.Add(new MalformedRequest("GET", path, null, null, status, what));
        void Preview(string? contentType, string body, int status, string what) =>
            cases.Add(new MalformedRequest("POST", "/api/categories/preview", contentType, body, status, what));

        Get("/api/customers/{customer}/timeline?page=0", 400, "timeline page zero");
        Get("/api/customers/{customer}/timeline?page=-1", 400, "negative timeline page");
        Get("/api/customers/{customer}/timeline?page=1000001", 400, "timeline page past the bound");
        Get("/api/customers/{customer}/timeline?page=abc", 400, "text timeline page");
        Get("/api/customers/{customer}/timeline?page=99999999999999999999", 400, "overflowing timeline page");
        Get("/api/customers/{customer}/timeline?pageSize=0", 400, "timeline page size zero");
        Get("/api/customers/{customer}/timeline?pageSize=201", 400, "timeline page size over the bound");
        Get("/api/customers/{customer}/timeline?pageSize=1e400", 400, "exponent timeline page size");
        Get("/api/customers/{customer}/timeline?count=maybe", 400, "timeline with an unknown count");
        Get("/api/customers/abc/timeline", 400, "timeline of a non-numeric id");
        Get("/api/customers/99999999999999999999/timeline", 400, "timeline of an overflowing id");
        Get("/api/customers/-1/timeline", 404, "timeline of an unknown customer");

        Preview(Json, """{"regularMinOrders":-1}""", 400, "negative regular orders threshold");
        Preview(Json, """{"vipMinSpent":-100}""", 400, "negative VIP spending threshold");
        Preview(Json, """{"vipMinSpent":"-100"}""", 400, "negative VIP spending threshold as text");
        Preview(Json, """{"vipMinOrders":0}""", 400, "VIP orders threshold zero");
        Preview(Json, """{"inactiveAfterDays":0}""", 400, "inactivity days zero");
        Preview(Json, """{"inactiveAfterDays":-30}""", 400, "negative inactivity days");
        Preview(Json, """{"vipMinSpent":"a lot"}""", 400, "text as the VIP spending threshold");
        Preview(Json, """{"vipMinOrders":true}""", 400, "boolean as the VIP orders threshold");
        Preview(Json, """{"regularMinOrders":[2]}""", 400, "array as the regular orders threshold");
        Preview(Json, """{"inactiveAfterDays":{"days":30}}""", 400, "object as the inactivity days");
        Preview(Json, """{"vipMinSpent":1e400}""", 400, "overflowing VIP spending threshold");
        Preview(Json, """{"vipThreshold":10}""", 400, "unknown threshold");
        Preview(Json, """{"regularMinOrders":2,"category":"vip"}""", 400, "unknown field beside a threshold");
        Preview(Json, """{"regularMinOrders":2""", 400, "truncated JSON");
        Preview(Json, "[]", 400, "array body");
        Preview(Json, "null", 400, "JSON null body");
        Preview("text/plain", """{"regularMinOrders":2}""", 415, "text/plain");
        return cases;
    }

    // A URL every environment accepts without a DNS lookup (an address the policy counts as
    // public; the documentation ranges such as 203.0.113.0/24 are refused): requests built on
    // it are refused for their other fields alone, so nothing is ever sent to it.
    private const string HookUrl = "https://192.0.3.10/hook";

    // Subscriptions (admin): URL rules, event names, lengths, types, ids of nothing, a test
    // event to a disabled subscription, deliveries' paging. Valid in both environments.
    private static IEnumerable<MalformedRequest> WebhookRequests()
    {
        var cases = new List<MalformedRequest>();
        void Add(string method, string path, string? contentType, string? body, int status, string what) =>
            cases.Add(new MalformedRequest(method, path, contentType, body, status, what));
        void Create(string body, string what, int status = 400) => Add("POST", "/api/webhooks", Json, body, status, what);
        void Patch(string body, string what, string id = "{webhook}", int status = 400) =>
            Add("PATCH", $"/api/webhooks/{id}", Json, body, status, what);
        void Get(string path, int status, string what) => Add("GET", path, null, null, status, what);

        Create("""{"events":["*"]}""", "subscription without a url");
        Create("""{"url":null,"events":["*"]}""", "null url");
        Create("""{"url":"","events":["*"]}""", "empty url");
        Create("""{"url":"/hook","events":["*"]}""", "relative url");
        Create("""{"url":"203.0.113.10/hook","events":["*"]}""", "url without a scheme");
        Create("""{"url":"ftp://203.0.113.10/hook","events":["*"]}""", "ftp url");
        Create("""{"url":"file:///etc/passwd","events":["*"]}""", "file url");
        Create("""{"url":"javascript:alert(1)","events":["*"]}""", "javascript url");
        Create($$"""{"url":"{{HookUrl}}/{{new string('a', 2001 - HookUrl.Length - 1)}}","events":["*"]}""", "2001-character url");
        Create($$"""{"url":"https://203.0.113.10/{{new string('a', 100_000)}}","events":["*"]}""", "100 000-character url");
        Create("""{"url":"https://user:secret@203.0.113.10/hook","events":["*"]}""", "url with credentials");
        Create("""{"url":"https://203.0.113.10/hook#part","events":["*"]}""", "url with a fragment");
        Create("""{"url":"https://203.0.113.10/ho\u0000ok","events":["*"]}""", "NUL in the url");
        Create("""{"url":"https://203.0.113.10/hook\r\nX-Injected: 1","events":["*"]}""", "header injection in the url");
        Create("""{"url":123,"events":["*"]}""", "number as the url");
        Create($$"""{"url":["{{HookUrl}}"],"events":["*"]}""", "array as the url");
        Create($$"""{"url":"{{HookUrl}}"}""", "no events");
        Create($$"""{"url":"{{HookUrl}}","events":null}""", "null events");
        Create($$"""{"url":"{{HookUrl}}","events":[]}""", "empty events");
        Create($$"""{"url":"{{HookUrl}}","events":["customer.exploded"]}""", "unknown event");
        Create($$"""{"url":"{{HookUrl}}","events":["Customer.Created"]}""", "event in capitals");
        Create($$"""{"url":"{{HookUrl}}","events":["customer.created","customer.created"]}""", "repeated event");
        Create($$"""{"url":"{{HookUrl}}","events":["webhook.test"]}""", "the test event is not subscribable");
        Create($$"""{"url":"{{HookUrl}}","events":[null]}""", "null as an event");
        Create($$"""{"url":"{{HookUrl}}","events":[{{string.Join(',', Enumerable.Repeat("\"*\"", 11))}}]}""", "11 event types");
        Create($$"""{"url":"{{HookUrl}}","events":"*"}""", "events as a string");
        Create($$"""{"url":"{{HookUrl}}","events":[1]}""", "number as an event");
        Create($$"""{"url":"{{HookUrl}}","events":["*"],"description":"{{new string('d', 501)}}"}""", "501-character description");
        Create($$"""{"url":"{{HookUrl}}","events":["*"],"description":"a\u0000b"}""", "NUL in the description");
        Create($$$"""{"url":"{{{HookUrl}}}","events":["*"],"description":{"text":"x"}}""", "object as the description");
        Create($$"""{"url":"{{HookUrl}}","events":["*"],"secret":"whsec_Y2hvc2VuLWJ5LXRoZS1jYWxsZXI="}""", "secret chosen by the caller");
        Create($$"""{"url":"{{HookUrl}}","events":["*"],"enabled":false}""", "enabled sent");
        Create($$"""{"url":"{{HookUrl}}","events":["*"],"id":1}""", "id sent");
        Create($$"""{"url":"{{HookUrl}}","events":["*"]""", "truncated JSON");
        Create("[]", "array body");
        Create("null", "JSON null body");
        Create("", "empty body");
        Add("POST", "/api/webhooks", "text/plain", $$"""{"url":"{{HookUrl}}","events":["*"]}""", 415, "text/plain");
        Add("POST", "/api/webhooks", null, $$"""{"url":"{{HookUrl}}","events":["*"]}""", 415, "no content type");
        Create($$"""{"url":"{{HookUrl}}","events":["*"],"description":"{{OverOneMegabyte}}"}""", "body over 1 MB", status: 413);

        Get("/api/webhooks?page=-1&pageSize=1e400", 400, "webhook list with a negative page and an exponent page size");
        Get("/api/webhooks?page=0", 400, "webhooks page zero");
        Get("/api/webhooks?pageSize=201", 400, "webhooks page size over the bound");
        Get("/api/webhooks?enabled=%00", 200, "the webhook list ignores an unknown NUL parameter");
        Get("/api/webhooks/-1", 404, "unknown webhook");
        Get("/api/webhooks/9223372036854775807", 404, "largest webhook id");
        Get("/api/webhooks/abc", 400, "non-numeric webhook id");
        Get("/api/webhooks/99999999999999999999", 400, "overflowing webhook id");
        Get("/api/webhooks/1e400", 400, "exponent webhook id");

        Patch("{}", "empty change");
        Patch("""{"url":null,"events":null,"description":null,"enabled":null}""", "change of nulls only");
        Patch("""{"url":""}""", "empty url");
        Patch("""{"url":"ftp://203.0.113.10/hook"}""", "ftp url");
        Patch("""{"url":"hook"}""", "relative url");
        Patch($$"""{"url":"{{HookUrl}}/{{new string('a', 2001 - HookUrl.Length - 1)}}"}""", "2001-character url");
        Patch("""{"events":[]}""", "empty events");
        Patch("""{"events":["customer.exploded"]}""", "unknown event");
        Patch("""{"events":["*","*"]}""", "repeated event");
        Patch($$"""{"description":"{{new string('d', 501)}}"}""", "501-character description");
        Patch("""{"description":"a\u0000b"}""", "NUL in the description");
        Patch("""{"url":"https://203.0.113.10/hook\nX-Injected: 1"}""", "line break in the url");
        Patch("""{"enabled":"yes"}""", "text as the enabled flag");
        Patch("""{"enabled":1}""", "number as the enabled flag");
        Patch("""{"events":"*"}""", "events as a string");
        Patch("""{"url":{"href":"https://203.0.113.10/hook"}}""", "object as the url");
        Patch("""{"secret":"whsec_Y2hvc2VuLWJ5LXRoZS1jYWxsZXI="}""", "secret sent");
        Patch("""{"disabledReason":null}""", "disabled reason sent");
        Patch("""{"failingSince":null,"enabled":true}""", "failing since sent beside enabled");
        Patch("""{"enabled":true""", "truncated JSON");
        Patch("[]", "array body");
        Patch("null", "JSON null body");
        Patch("""{"enabled":true}""", "change of an unknown webhook", id: "-1", status: 404);
        Patch("""{"enabled":true}""", "change of a non-numeric webhook id", id: "abc");
        Add("PATCH", "/api/webhooks/{webhook}", "text/plain", """{"enabled":true}""", 415, "text/plain change");

        Add("DELETE", "/api/webhooks/-1", null, null, 404, "delete unknown webhook");
        Add("DELETE", "/api/webhooks/abc", null, null, 400, "delete non-numeric webhook id");
        Add("DELETE", "/api/webhooks/99999999999999999999", null, null, 400, "delete overflowing webhook id");
        Add("DELETE", "/api/webhooks", null, null, 405, "deleting every webhook");
        Add("PUT", "/api/webhooks/{webhook}", Json, $$"""{"url":"{{HookUrl}}","events":["*"]}""", 405, "replacing a webhook");

        Add("POST", "/api/webhooks/-1/rotate-secret", null, null, 404, "rotating the secret of an unknown webhook");
        Add("POST", "/api/webhooks/abc/rotate-secret", null, null, 400, "rotating the secret of a non-numeric id");
        Add("POST", "/api/webhooks/1e400/rotate-secret", null, null, 400, "rotating the secret of an exponent id");
        Add("GET", "/api/webhooks/{webhook}/rotate-secret", null, null, 405, "GET on the secret rotation");

        Add("POST", "/api/webhooks/{disabledWebhook}/test", null, null, 409, "test event to a disabled webhook enqueues nothing");
        Add("POST", "/api/webhooks/-1/test", null, null, 404, "test event to an unknown webhook enqueues nothing");
        Add("POST", "/api/webhooks/abc/test", null, null, 400, "test event to a non-numeric id");
        Add("POST", "/api/webhooks/99999999999999999999/test", null, null, 400, "test event to an overflowing id");

        Add("POST", "/api/webhooks/{webhook}/replay", Json, "{}", 400, "replay of neither a window nor a run");
        Add("POST", "/api/webhooks/{webhook}/replay", Json, """{"from":"2026-12-01T00:00:00Z","to":"2026-12-02T00:00:00Z","runId":1}""", 400,
            "replay of a window and a run");
        Add("POST", "/api/webhooks/{webhook}/replay", Json, """{"from":"2026-12-02T00:00:00Z","to":"2026-12-01T00:00:00Z"}""", 400,
            "replay of a window that ends before it starts");
        Add("POST", "/api/webhooks/{webhook}/replay", Json, """{"from":"yesterday","to":"today"}""", 400, "replay of words as times");
        Add("POST", "/api/webhooks/{webhook}/replay", Json, """{"runId":"x"}""", 400, "replay of a text run id");
        Add("POST", "/api/webhooks/{webhook}/replay", Json, """{"runId":987654}""", 404, "replay of an unknown run");
        Add("POST", "/api/webhooks/-1/replay", Json, """{"runId":1}""", 404, "replay to an unknown webhook");
        Add("POST", "/api/webhooks/abc/replay", Json, """{"runId":1}""", 400, "replay to a non-numeric id");

        Get("/api/webhooks/{webhook}/deliveries?page=0", 400, "deliveries page zero");
        Get("/api/webhooks/{webhook}/deliveries?page=-1", 400, "negative deliveries page");
        Get("/api/webhooks/{webhook}/deliveries?page=1000001", 400, "deliveries page past the bound");
        Get("/api/webhooks/{webhook}/deliveries?pageSize=0", 400, "deliveries page size zero");
        Get("/api/webhooks/{webhook}/deliveries?pageSize=201", 400, "deliveries page size over the bound");
        Get("/api/webhooks/{webhook}/deliveries?pageSize=abc", 400, "text deliveries page size");
        Get("/api/webhooks/{webhook}/deliveries?page=99999999999999999999", 400, "overflowing deliveries page");
        Get("/api/webhooks/{webhook}/deliveries?count=maybe", 400, "deliveries with an unknown count");
        Get("/api/webhooks/-1/deliveries", 404, "deliveries of an unknown webhook");
        Get("/api/webhooks/abc/deliveries", 400, "deliveries of a non-numeric id");
        Add("DELETE", "/api/webhooks/{webhook}/deliveries", null, null, 405, "deleting a webhook's deliveries");
        return cases;
    }

    // A person's data (admin): phones that are not phones, ids of nothing, the receipts' paging.
    // Nothing is erased or recorded by any of them.
    private static IEnumerable<MalformedRequest> PrivacyRequests()
    {
        var cases = new List<MalformedRequest>();
        void Add(string method, string path, string? contentType, string? body, int status, string what) =>
            cases.Add(new MalformedRequest(method, path, contentType, body, status, what));
        void Get(string path, int status, string what) => Add("GET", path, null, null, status, what);
        Add("POST", "/api/privacy/erasures", Json, "{}", 400, "erasure without a phone");
        Add("POST", "/api/privacy/erasures", Json, """{"phone":"not a phone"}""", 400, "erasure of a phone that is no phone");
        Add("POST", "/api/privacy/erasures", Json, """{"phone":79120001122}""", 400, "erasure of a phone as a number");
        Add("POST", "/api/privacy/erasures", Json, """{"phone":"+7912000112""", 400, "erasure with cut-off JSON");
        Add("POST", "/api/privacy/erasures", "text/plain", """{"phone":"+79120001122"}""", 415, "text/plain erasure");
        Get("/api/privacy/erasures?page=0", 400, "erasures page zero");
        Get("/api/privacy/erasures?pageSize=201", 400, "erasures page size over the bound");
        Get("/api/privacy/erasures/-1", 404, "unknown erasure");
        Get("/api/privacy/erasures/abc", 400, "non-numeric erasure id");
        Get("/api/privacy/export", 400, "export without a phone");
        Get("/api/privacy/export?phone=%2B7%20999", 400, "export of a phone too short");
        Add("POST", "/api/customers/-1/erase", null, null, 404, "erase of an unknown customer enqueues nothing");
        Add("POST", "/api/customers/abc/erase", null, null, 400, "erase of a non-numeric id");
        Add("POST", "/api/customers/99999999999999999999/erase", null, null, 400, "erase of an overflowing id");
        Get("/api/customers/-1/export", 404, "export of an unknown customer");
        Get("/api/customers/1e400/export", 400, "export of an exponent id");
        return cases;
    }

    // Webhook URLs that Development accepts (plain http, receivers inside the host's own
    // networks) and every other environment refuses, at registration as on a change. The
    // policy reads IP literals without a lookup; localhost resolves from the hosts file.
    public static IEnumerable<MalformedRequest> OutsideDevelopment()
    {
        var cases = new List<MalformedRequest>();
        void Url(string url, string what)
        {
            cases.Add(new MalformedRequest("POST", "/api/webhooks", Json, $$"""{"url":"{{url}}","events":["*"]}""", 400, what));
            cases.Add(new MalformedRequest("PATCH", "/api/webhooks/{webhook}", Json, $$"""{"url":"{{url}}"}""", 400, what));
        }
        Url("http://203.0.113.10/hook", "plain http");
        Url("https://127.0.0.1/hook", "loopback");
        Url("https://127.8.9.10/hook", "loopback beyond 127.0.0.1");
        Url("https://localhost/hook", "localhost by name");
        Url("https://[::1]/hook", "IPv6 loopback");
        Url("https://[::ffff:127.0.0.1]/hook", "loopback mapped into IPv6");
        Url("https://2130706433/hook", "loopback as one decimal number");
        Url("https://0x7f.1/hook", "loopback in hex");
        Url("https://0.0.0.0/hook", "the unspecified address");
        Url("https://10.1.2.3/hook", "private 10/8");
        Url("https://172.16.5.4/hook", "private 172.16/12");
        Url("https://192.168.0.10/hook", "private 192.168/16");
        Url("https://169.254.169.254/latest/meta-data", "the cloud metadata service");
        Url("https://100.100.100.200/hook", "carrier-grade NAT (a metadata service)");
        Url("https://[fd00:ec2::254]/hook", "IPv6 unique-local (a metadata service)");
        Url("https://[fe80::1]/hook", "IPv6 link-local");
        Url("https://224.0.0.1/hook", "multicast");
        return cases;
    }

    // Malformed requests the API accepts today: production bugs, run by BadInputGapsTests
    // (skipped until fixed, then moved up into the corpus).
    public static IEnumerable<MalformedRequest> KnownGaps() =>
    [
        // System.Text.Json's enum converter reads "a,b" as a flags combination (a | b) even for
        // enums that are not [Flags]; when the bitwise OR is a defined value, IsInEnum passes.
        new("POST", "/api/orders", Json, """{"totalAmount":10,"status":"processing,completed"}""", 400,
            "two statuses (stored today as cancelled: 1 | 2 = 3)"),
        new("PATCH", "/api/orders/{order}", Json, """{"status":"new,processing"}""", 400,
            "two statuses (stored today as processing: 0 | 1 = 1)"),
        new("POST", "/api/sync", Json, """{"mode":"default,force"}""", 400,
            "two modes (enqueues a statsOnly sync today: 1 | 2 = 3)"),
        new("POST", "/api/orders/import", Ndjson, """{"totalAmount":10,"status":"processing,completed"}""", 200,
            "NDJSON: two statuses (imported today as cancelled)", rejected: 1, errors: 1),
        // The customer phone has no SingleLine rule; libphonenumber skips the control character.
        new("POST", "/api/customers", Json, """{"name":"Иван","phone":"+79991112233\u0000"}""", 400,
            "NUL after the phone (201 today)"),
        new("PUT", "/api/customers/{customer}", Json, """{"name":"Иван","phone":"+79990000001\u0007"}""", 400,
            "bell after the phone (200 today)"),
        new("PATCH", "/api/customers/{customer}", Json, """{"phone":"+79990000001\u001b"}""", 400,
            "escape after the phone (200 today)"),
    ];

    public static TheoryData<MalformedRequest> Cases() => Data(All());

    public static TheoryData<MalformedRequest> Gaps() => Data(KnownGaps());

    public static TheoryData<MalformedRequest> ProductionCases() => Data(OutsideDevelopment());

    private static TheoryData<MalformedRequest> Data(IEnumerable<MalformedRequest> requests)
    {
        var data = new TheoryData<MalformedRequest>();
        foreach (var request in requests)
            data.Add(request);
        return data;
    }
}
