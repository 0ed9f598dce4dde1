// Sorting the page's tables: a click on a column's header sorts the rows by
// that column; a second click reverses them. Figures sort largest first,
// names A to Z first. A cell sorts by its data-sort value when it has one
// (times in nanoseconds, counts), else by its text. Rows that tie keep
// their order (the sort is stable).
(function () {
  "use strict";

  function key(row, column) {
    const cell = row.cells[column];
    if (!cell) {
      return "";
    }
    const raw = cell.getAttribute("data-sort");
    return raw === null ? cell.textContent.trim() : raw;
  }

  function compare(a, b) {
    const x = Number(a);
    const y = Number(b);
    if (a !== "" && b !== "" && !Number.isNaN(x) && !Number.isNaN(y)) {
      return x - y;
    }
    return a.localeCompare(b);
  }

  function sortBy(table, header, column) {
    const current = header.getAttribute("aria-sort");
    const first = header.getAttribute("data-first") || "ascending";
    let order = first;
    if (current === "ascending") {
      order = "descending";
    } else if (current === "descending") {
      order = "ascending";
    }
    for (const th of table.tHead.rows[0].cells) {
      th.removeAttribute("aria-sort");
    }
    header.setAttribute("aria-sort", order);
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const sign = order === "ascending" ? 1 : -1;
    rows.sort((r, s) => sign * compare(key(r, column), key(s, column)));
    for (const row of rows) {
      body.appendChild(row);
    }
  }

  for (const table of document.querySelectorAll("table.sortable")) {
    if (!table.tHead || table.tBodies.length === 0) {
      continue;
    }
    Array.from(table.tHead.rows[0].cells).forEach((header, column) => {
      const button = header.querySelector("button");
      if (button) {
        button.addEventListener("click", () => sortBy(table, header, column));
      }
    });
  }
})();
