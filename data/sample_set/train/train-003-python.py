import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 3))
ax.plot([6, 7, 6], color='#ff7f0e', marker='o', linewidth=3)
ax.set_title('Q1')
plt.show()
