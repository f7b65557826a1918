"""Customer notification (通知客戶機制): notifications sent through the broker's gateway, the customers'
answers, the cases opened when a login was not theirs, and the records point 16 of the inspection reads."""
