// Notices an approval sooner than the employee's click: polls the flow's state and sends
// the continue form once it is verified. Everything it needs comes from data- attributes
// of the #status element (never from text inside a script); without script, the form's
// button does the same.
(function () {
  'use strict';
  var status = document.getElementById('status');
  if (!status) {
    return;
  }
  var url = status.getAttribute('data-poll');
  var form = document.getElementById(status.getAttribute('data-form') || '');
  if (!url || !form) {
    return;
  }
  var messages = {
    denied: 'The request was denied on the phone.',
    expired: 'The request expired. Please start again.'
  };
  function tick() {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 404) {
          return { state: 'expired' };
        }
        return response.json();
      })
      .then(function (body) {
        if (body.state === 'verified') {
          form.submit();
          return;
        }
        if (messages[body.state]) {
          status.textContent = messages[body.state];
          return;
        }
        setTimeout(tick, 2000);
      })
      .catch(function () {
        setTimeout(tick, 5000);
      });
  }
  setTimeout(tick, 2000);
})();
